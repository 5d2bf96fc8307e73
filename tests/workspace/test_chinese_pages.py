"""Every page a collector, a supervisor or a debtor sees is in Chinese when Chinese is chosen.

The test builds one busy case (loans of two products and currencies, a plan awaiting a
discount approval and an active one, a promise, a payment, contact points of every kind, a
callback, notes, calls with and without an outcome, a call the gate refused, a reminder of a
shipped stage, portal visits), chooses Chinese the way a user does (the language menu, which
posts to Django's ``set_language``), opens every page and every action panel, and reads the
text a person sees: text nodes, the attributes a browser or this project's scripts show
(``VISIBLE_ATTRIBUTES``), the labels of the dashboards' charts. <script>, <style>, <kbd> (a
key as printed on the keyboard) and <code> (an identifier) are not read, nor the language
menu, which names each language in its own words.

The data the test created is then removed (``Scene.data``: names, references, numbers,
amounts' currency codes and symbols, ISO codes, time zone names); the data is Chinese where it
can be, so that little must be removed. Any word of two or more ASCII letters left over is
English a person would read, unless it is in ``ALLOWED``; the failure lists them by page.

The same pages in English must show their key words (``ENGLISH``), so the test cannot pass
because the language switch did nothing or the reading lost the text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from babel.numbers import get_currency_symbol
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from cases import services
from cases.models import DispositionCode
from cases.payments import payment_record
from cases.roles import COLLECTOR, SUPERVISOR
from compliance.gate import ContactBlocked
from compliance.models import ContactPolicy
from debtors.models import Channel, ContactPoint, mask
from messaging.channels.base import get_backend
from messaging.models import InboxMessage
from reminders.models import Reminder, ReminderStage
from selfservice.links import link_make
from selfservice.models import PortalPlanRequest
from tests.factories import make_case, make_contact_point, make_debtor, make_loan
from workspace.views.case import PANEL_NAMES, SUPERVISOR_PANELS

from .conftest import DAYTIME, NIGHT

# English words allowed on a Chinese page. Each is written the same way in Chinese back
# offices and has no Chinese word in use there; keep this list short and say why.
ALLOWED = {
    # File formats and the unit of a file's size, named so on Chinese upload and download
    # links (导出 CSV, 不超过 5 MB).
    "CSV",
    "XLSX",
    "PDF",
    "JPEG",
    "PNG",
    "MB",
    # The designation of China's national standards (GB/T 45251-2025), written so in Chinese.
    "GB",
}

# Attributes whose words a person reads: tooltips, placeholders, screen readers' names, the
# keyboard-shortcut list (keys.js) and the confirmation questions (confirm.js).
VISIBLE_ATTRIBUTES = (
    "title",
    "placeholder",
    "aria-label",
    "alt",
    "data-key-help",
    "data-confirm",
    "data-confirm-text",
)
# Elements whose text is not the page's words: scripts, styles, a key as printed on the
# keyboard, an identifier shown as code (a reason code, a policy's rules).
UNREAD_ELEMENTS = {"script", "style", "kbd", "code"}
# The language menus (back office, portal) name each language in its own words.
LANGUAGE_MENUS = {"language-select", "language-switch"}

ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
EMAIL = re.compile(r"[\w.*+-]+@[\w.-]+")
URL = re.compile(r"https?://\S+")
# A file's path (docs/import-format.md): an identifier to open, not words to read.
PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)+\.[a-z]+")


class VisibleText(HTMLParser):
    """The pieces of text of a page that a person reads (see the module's docstring)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._skipping: list[str] = []  # the open elements whose content is not read
        self._chart_data: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.append(tag)
            return
        if tag == "script" and attributes.get("id") == "chart-data":
            self._chart_data = []
        if tag in UNREAD_ELEMENTS or attributes.get("id") in LANGUAGE_MENUS:
            self._skipping.append(tag)
            return
        self.pieces += [attributes[name] for name in VISIBLE_ATTRIBUTES if attributes.get(name)]
        if tag == "input" and attributes.get("type") in {"submit", "button", "reset"}:
            self.pieces.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()
        if tag == "script" and self._chart_data is not None:
            self.pieces += _chart_labels(json.loads("".join(self._chart_data)))
            self._chart_data = None

    def handle_data(self, data):
        if self._chart_data is not None:
            self._chart_data.append(data)
        elif not self._skipping:
            self.pieces.append(data)


def _chart_labels(data) -> list[str]:
    """What charts.js shows of the dashboards' chart data: every ``label`` and ``labels``
    (axis labels, series names), wherever the charts' JSON nests them."""
    if isinstance(data, list):
        return [text for item in data for text in _chart_labels(item)]
    if not isinstance(data, dict):
        return []
    found = []
    for key, value in data.items():
        if key in {"label", "labels"}:
            found += [str(v) for v in (value if isinstance(value, list) else [value])]
        else:
            found += _chart_labels(value)
    return found


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return [" ".join(piece.split()) for piece in parser.pieces if piece.strip()]


def english_left(html: str, data: list[str]) -> list[str]:
    """The pieces of visible text that still hold an English word once ``data`` is removed."""
    found = []
    for piece in visible_text(html):
        text = PATH.sub(" ", URL.sub(" ", piece))
        for value in data:
            text = text.replace(value, " ")
        text = EMAIL.sub(" ", text)
        if any(word not in ALLOWED for word in ENGLISH_WORD.findall(text)):
            found.append(piece[:120])
    return sorted(set(found))


def english_words(html: str) -> set[str]:
    return {w.lower() for piece in visible_text(html) for w in ENGLISH_WORD.findall(piece)}


# --- The scene ------------------------------------------------------------------------------


@dataclass
class Scene:
    collector: User
    supervisor: User
    case: object
    held_case: object
    debtor: object
    loans: list
    plan: object
    data: list[str] = field(default_factory=list)

    def remember(self, *values) -> None:
        self.data += [str(v) for v in values if v]
        # Longest first, so a value is never cut by a shorter one inside it.
        self.data.sort(key=len, reverse=True)


def _user(username: str, role: str) -> User:
    user = User.objects.create_user(username=username, password="test-pass-123")
    user.groups.add(Group.objects.get(name=role))
    return user


def _shipped_stage(name: str) -> ReminderStage:
    return ReminderStage.objects.get(strategy__slug="gentle", name=name)


BIRTH = dt.date(1990, 3, 7)


def on_portal(debtor, loan=None, language: str = "") -> Client:
    """A client on the debtor's portal, identity confirmed; in the debtor's language unless
    ``language`` is chosen on the portal."""
    client = Client()
    url = link_make(debtor, loan)
    assert client.get("/" + url.split("://", 1)[1].split("/", 1)[1]).status_code == 302
    if language:
        assert client.post(reverse("portal:language"), {"language": language}).status_code == 302
    verified = client.post(reverse("portal:verify"), {"date_of_birth": BIRTH.isoformat()})
    assert verified.status_code == 302
    return client


@pytest.fixture
def daytime():
    with time_machine.travel(DAYTIME, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(db, daytime, settings, tmp_path) -> Scene:
    settings.REMINDER_OUTBOX_DIR = str(tmp_path)
    settings.PORTAL_RATE_PER_ADDRESS = settings.PORTAL_RATE_PER_LINK = 100_000
    settings.REMINDER_COMPANY_NAME = "示例信贷"
    collector = _user("李娜", COLLECTOR)
    supervisor = _user("王芳", SUPERVISOR)
    debtor = make_debtor(
        full_name="张伟",
        preferred_language="zh-hans",
        date_of_birth=BIRTH,
        region="CN-SH",
    )
    phone = make_contact_point(debtor, value="+8613800138000", is_primary=True)
    landline = make_contact_point(debtor, kind=ContactPoint.Kind.LANDLINE, value="+862161234567")
    make_contact_point(debtor, kind=ContactPoint.Kind.EMAIL, value="zhangwei@163.com")
    make_contact_point(
        debtor,
        kind=ContactPoint.Kind.ADDRESS,
        value="上海市浦东新区世纪大道100号",
        country="CN",
        timezone="Asia/Shanghai",
    )
    make_contact_point(
        debtor,
        value="+8613900139000",
        owner=ContactPoint.Owner.GUARANTOR,
        owner_name="张强",
        label="担保人",
        status=ContactPoint.Status.UNVERIFIED,
    )
    personal = make_loan(debtor, product="personal_loan", risk_band="low")
    bnpl = make_loan(debtor, product="bnpl", currency="USD")
    case = make_case(debtor, collector)

    services.note_add(actor=collector, debtor=debtor, body="债务人表示下周发工资后还款")
    services.callback_schedule(
        actor=collector,
        debtor=debtor,
        due_at=DAYTIME + dt.timedelta(days=1),
        note="下午三点回电",
    )
    services.promise_record(
        actor=collector, loan=personal, amount=Decimal("100.00"), promised_date=dt.date(2026, 3, 5)
    )
    payment_record(
        actor=collector,
        loan=personal,
        amount=Decimal("50.00"),
        received_at=DAYTIME - dt.timedelta(days=1),
        method="bank_transfer",
        external_ref="P-000001",
    )
    personal.refresh_from_db()
    plan = services.plan_propose(
        actor=collector,
        loan=personal,
        count=3,
        first_date=dt.date(2026, 3, 10),
        frequency="monthly",
        discount_amount=Decimal("20.00"),
        discount_reason="失业三个月，收入减少",
    )
    services.plan_propose(
        actor=collector, loan=bnpl, count=2, first_date=dt.date(2026, 3, 10), frequency="weekly"
    )
    services.message_send(
        actor=collector,
        debtor=debtor,
        contact_point=phone,
        channel=Channel.SMS,
        body="张先生您好，您的贷款已逾期，请尽快还款。",
        backend=get_backend(Channel.SMS),
    )
    answered = services.call_place(actor=collector, debtor=debtor, contact_point=phone)
    services.call_outcome_log(
        actor=collector,
        debtor=debtor,
        code=DispositionCode.objects.get(code="promise"),
        note="本人接听，同意还款",
        attempt=answered,
    )
    daytime.move_to(NIGHT)
    with pytest.raises(ContactBlocked):
        services.call_place(actor=collector, debtor=debtor, contact_point=phone)
    daytime.move_to(DAYTIME)
    installment = personal.installments.order_by("due_date").first()
    for stage, status, reason in (
        (_shipped_stage("Due today"), "sent", ""),
        (_shipped_stage("One day overdue"), "closed", "outside_contact_hours"),
    ):
        Reminder.objects.create(
            loan=personal,
            installment=installment,
            stage=stage,
            debtor=debtor,
            channel=stage.channel,
            due_date=installment.due_date,
            scheduled_for=DAYTIME.date(),
            not_before=DAYTIME - dt.timedelta(hours=1),
            status=status,
            reason=reason,
            finished_at=DAYTIME - dt.timedelta(minutes=30),
        )
    # Opened by the debtor: the portal's events on the timeline.
    on_portal(debtor, personal)
    # A call the gate allowed, waiting for its outcome: the wrap-up panel is open.
    services.call_place(actor=collector, debtor=debtor, contact_point=landline)

    held = make_debtor(full_name="刘洋", preferred_language="zh-hans", date_of_birth=BIRTH)
    make_contact_point(held, value="+8613700137000")
    make_loan(held, product="credit_line")
    held_case = make_case(held, collector)
    services.debtor_hold_record(
        actor=collector, debtor=held, kind="dispute", reason="称已还清，要求核实"
    )
    services.debtor_hold_record(
        actor=collector,
        debtor=held,
        kind="hardship",
        reason="住院治疗",
        until=dt.date(2026, 4, 1),
    )
    fresh = make_debtor(full_name="陈静", preferred_language="zh-hans", date_of_birth=BIRTH)
    make_contact_point(fresh, value="+8613600136000")
    car = make_loan(fresh, product="auto_loan")
    make_case(fresh, collector)
    # The debtors on the portal, in their language: a plan beyond the limits, waiting for a
    # decision, and a dispute.
    proposed = on_portal(fresh, car).post(
        reverse("portal:plan"),
        {
            "loan": car.pk,
            "count": "24",
            "frequency": "monthly",
            "first_date": "2026-03-20",
            "note": "希望分24期",
        },
    )
    disputed = on_portal(held).post(reverse("portal:dispute"), {"reason": "金额不对，请核实"})
    assert proposed.status_code == disputed.status_code == 302
    assert PortalPlanRequest.objects.filter(debtor=fresh, decided_at=None).exists()
    scene = Scene(
        collector=collector,
        supervisor=supervisor,
        case=case,
        held_case=held_case,
        debtor=debtor,
        loans=[personal, bnpl],
        plan=plan,
    )
    for someone in (debtor, held, fresh):
        scene.remember(someone.external_ref, someone.national_id, someone.masked_national_id)
        for point in someone.contact_points.all():
            # Masked on the case page, and all but its end on the audit pages.
            scene.remember(point.value, point.masked_value, mask(point.value))
        for loan in someone.loans.all():
            scene.remember(loan.external_ref)
    # Currency codes and their symbols in both languages (US$ in Chinese), the debtor's
    # country and region (ISO codes), the zones the pages name (the debtor's, the viewer's).
    for code in ("CNY", "USD"):
        scene.remember(code, get_currency_symbol(code, "zh_Hans_CN"), get_currency_symbol(code))
    scene.remember("CN-SH", "CN", "Asia/Shanghai", settings.DEFAULT_VIEWER_TIMEZONE)
    # The contact policies' identifiers, which the gate's answers cite.
    scene.remember(*ContactPolicy.objects.values_list("slug", flat=True))
    return scene


def _client(user: User, language: str) -> Client:
    """A client of ``user`` who chose ``language`` in the page's language menu."""
    client = Client()
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
    return client


def _ok(response, *statuses) -> str:
    assert response.status_code in (statuses or (200,)), (response.status_code, response)
    return response.content.decode()


def collector_pages(scene: Scene, client: Client, daytime) -> dict[str, str]:
    """Every page a collector opens in a day's work, by name."""
    case = scene.case
    personal = scene.loans[0]
    pages = {
        "queue": _ok(client.get(reverse("home"))),
        "queue, nothing found": _ok(client.get(reverse("home"), {"q": "查无此人"})),
        "queue, bad filter": _ok(client.get(reverse("home"), {"min_dpd": "多"})),
        "case": _ok(client.get(reverse("case-detail", args=[case.pk]))),
        "case on hold": _ok(client.get(reverse("case-detail", args=[scene.held_case.pk]))),
        "replies": _ok(client.get(reverse("replies"))),
    }
    for name in PANEL_NAMES:
        if name not in SUPERVISOR_PANELS:
            url = reverse("case-panel", args=[case.pk, name])
            pages[f"panel {name}"] = _ok(client.get(url))
    pages["plan calculator"] = _ok(
        client.post(
            reverse("case-plan-preview", args=[case.pk]),
            {
                "plan-loan": personal.pk,
                "plan-count": "3",
                "plan-frequency": "monthly",
                "plan-first_date": "2026-03-20",
            },
        )
    )
    pages["wrap-up with errors"] = _ok(
        client.post(reverse("case-outcome", args=[case.pk]), {"follow_up": "promise"}), 400
    )
    pages["plan with errors"] = _ok(
        client.post(
            reverse("case-outcome", args=[case.pk]),
            {
                "code": DispositionCode.objects.get(code="plan_agreed").pk,
                "follow_up": "plan",
                "plan-loan": personal.pk,
                "plan-count": "3",
                "plan-frequency": "monthly",
                "plan-first_date": "2026-01-01",
                "plan-discount_amount": "10",
            },
        ),
        400,
    )
    pages["callback with errors"] = _ok(
        client.post(
            reverse("case-outcome", args=[case.pk]),
            {
                "code": DispositionCode.objects.get(code="callback_requested").pk,
                "follow_up": "callback",
                "callback-due_at": "2026-01-01T10:00",
            },
        ),
        400,
    )
    pages["hold with errors"] = _ok(
        client.post(reverse("case-hold", args=[case.pk]), {"kind": "hardship"}), 400
    )
    pages["message with errors"] = _ok(
        client.post(reverse("case-message", args=[case.pk]), {"contact_point": ""}), 400
    )
    pages["note added"] = _ok(
        client.post(reverse("case-note", args=[case.pk]), {"body": "已发短信提醒"}, follow=True)
    )
    daytime.move_to(NIGHT)
    # Thirteen hours later: the morning's session has ended (SESSION_MAX_HOURS).
    client.force_login(scene.collector)
    phone = case.debtor.contact_points.get(is_primary=True)
    pages["call refused at night"] = _ok(
        client.post(reverse("case-call", args=[case.pk]), {"contact_point": phone.pk})
    )
    daytime.move_to(DAYTIME)
    pages["next case"] = _ok(client.get(reverse("queue-next"), follow=True))
    return pages


def supervisor_pages(scene: Scene, client: Client) -> dict[str, str]:
    """Every page a supervisor opens, by name (the collector's pages are checked already)."""
    case, personal = scene.case, scene.loans[0]
    policy = ContactPolicy.objects.filter(is_active=True).order_by("slug").first()
    pages = {
        "queue (supervisor)": _ok(client.get(reverse("home"))),
        "case (supervisor)": _ok(client.get(reverse("case-detail", args=[case.pk]))),
        "team": _ok(client.get(reverse("team"))),
        "approvals": _ok(client.get(reverse("approvals"))),
        "decisions": _ok(client.get(reverse("decisions"))),
        "decisions, blocked": _ok(client.get(reverse("decisions"), {"verdict": "blocked"})),
        "breaches": _ok(client.get(reverse("breaches"))),
        "dashboards": _ok(client.get(reverse("dashboards"))),
        "reminders today": _ok(
            client.get(reverse("reminders-today"), {"day": DAYTIME.date().isoformat()})
        ),
        "imports": _ok(client.get(reverse("imports"))),
        "audit of the debtor": _ok(client.get(reverse("audit-debtor", args=[scene.debtor.pk]))),
        "audit of a loan": _ok(client.get(reverse("audit-loan", args=[personal.pk]))),
        "audit of a plan": _ok(client.get(reverse("audit-plan", args=[scene.plan.pk]))),
        "audit of a policy": _ok(client.get(reverse("audit-policy", args=[policy.slug]))),
        "ledger verified": _ok(client.post(reverse("verify-ledger"), follow=True)),
    }
    for name in SUPERVISOR_PANELS:
        pages[f"panel {name}"] = _ok(client.get(reverse("case-panel", args=[case.pk, name])))
    return pages


def portal_pages(scene: Scene, language: str) -> dict[str, str]:
    """The debtor's pages, from their link, in ``language`` (chosen on the portal)."""
    client = Client()
    url = link_make(scene.debtor, scene.loans[0])
    assert client.get("/" + url.split("://", 1)[1].split("/", 1)[1]).status_code == 302
    assert client.post(reverse("portal:language"), {"language": language}).status_code == 302
    pages = {"portal, who are you": _ok(client.get(reverse("portal:home")))}
    pages["portal, not matching"] = _ok(
        client.post(reverse("portal:verify"), {"date_of_birth": "1991-01-01"}), 400
    )
    client = on_portal(scene.debtor, scene.loans[0], language)
    for name in ("home", "promise", "plan", "contact", "dispute", "inbox"):
        pages[f"portal {name}"] = _ok(client.get(reverse(f"portal:{name}")))
    message = InboxMessage.objects.create(
        debtor=scene.debtor,
        idempotency_key=f"zh-{language}",
        subject="还款提醒",
        body="请按时还款。",
    )
    pages["portal inbox message"] = _ok(
        client.get(reverse("portal:inbox-message", args=[message.pk]))
    )
    pages["portal, promise made"] = _ok(
        client.post(
            reverse("portal:promise"),
            {"loan": scene.loans[0].pk, "amount": "10.00", "promised_date": "2026-03-06"},
            follow=True,
        )
    )
    return pages


# The words each page must show in English, so that its Chinese reading means something.
ENGLISH = {
    "queue": {"work", "queue", "next", "case"},
    "case": {"actions", "timeline", "personal", "loan", "wrap"},
    "panel outcome": {"save", "next", "case", "promise"},
    "panel note": {"add", "note"},
    "panel message": {"send"},
    "panel hold": {"record"},
    "panel close": {"close", "case"},
    "team": {"team"},
    "reminders today": {"due", "today"},
    "portal home": {"payments"},
}


def _assert_chinese(scene: Scene, chinese: dict[str, str], english: dict[str, str]) -> None:
    assert chinese.keys() == english.keys()
    for name, html in english.items():
        words = english_words(html)
        # A whole page shows many words; a panel (a fragment) at least a few.
        least = 5 if "<html" in html else 1
        assert len(words) >= least, f"{name}: the English page shows almost no words: {words}"
        missing = ENGLISH.get(name, set()) - words
        assert not missing, f"{name}: the English page lacks {missing}"
    left = {name: english_left(html, scene.data) for name, html in chinese.items()}
    left = {name: pieces for name, pieces in left.items() if pieces}
    report = "\n".join(f"  {name}: {pieces}" for name, pieces in left.items())
    assert not left, f"English on {len(left)} Chinese pages:\n{report}"


def test_a_collectors_pages_are_all_in_chinese(scene, daytime):
    english = collector_pages(scene, _client(scene.collector, "en"), daytime)
    chinese = collector_pages(scene, _client(scene.collector, "zh-hans"), daytime)
    assert {f"panel {name}" for name in PANEL_NAMES} - chinese.keys() == {
        f"panel {name}" for name in SUPERVISOR_PANELS
    }
    # The scene is on the page: the timeline's message, note and callback, the loans.
    for shown in (
        "张先生您好",
        "债务人表示下周发工资后还款",
        "下午三点回电",
        scene.loans[1].external_ref,
    ):
        assert shown in chinese["case"] and shown in english["case"], shown
    _assert_chinese(scene, chinese, english)


def test_a_supervisors_pages_are_all_in_chinese(scene):
    english = supervisor_pages(scene, _client(scene.supervisor, "en"))
    chinese = supervisor_pages(scene, _client(scene.supervisor, "zh-hans"))
    _assert_chinese(scene, chinese, english)


def test_the_debtors_portal_is_all_in_chinese(scene):
    _assert_chinese(scene, portal_pages(scene, "zh-hans"), portal_pages(scene, "en"))


def test_the_reading_finds_english_where_it_is():
    """The check itself: English in text, tooltips, placeholders, confirmation questions and
    chart labels is found; keys, scripts, the language menu and the test's data are not."""
    html = """<title>催收</title><p>欢迎 <kbd>Ctrl</kbd></p><script>var x = "Hello";</script>
    <select id="language-select"><option>English</option></select>
    <a title="Open the case">打开</a><input placeholder="Search"><form data-confirm="Sure?">
    <input type="submit" value="Save"><span>张伟 D-000001 US$12.00 zhangwei@163.com</span>
    <p>见 docs/import-format.md，原因 <code>outside_contact_hours</code></p>
    <script id="chart-data" type="application/json">
    {"a": {"labels": ["Week"], "panels": [{"datasets": [{"label": "Paid", "data": [1]}]}]}}
    </script>"""
    left = english_left(html, ["US$"])
    assert left == ["Open the case", "Paid", "Save", "Search", "Sure?", "Week"]
    assert english_left("<p>导出 CSV</p>", []) == []
