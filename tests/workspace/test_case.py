"""The case page and its actions: each through a service, each on the timeline at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import escape

from cases.models import Callback, CallDisposition, DispositionCode, Note, RevealLog
from compliance.models import ContactAttempt, ContactDecision
from debtors.models import ContactPoint, PromiseToPay, RepaymentPlan
from messaging.models import SentMessage
from tests.factories import make_case, make_contact_point, make_debtor, make_loan

from .conftest import DAYTIME, NIGHT


@pytest.fixture
def logged_in(client, collector, work):
    client.force_login(collector)
    return client


def url(name, case, *args):
    return reverse(name, args=[case.pk, *args])


def test_case_page_shows_debtor_loans_and_masked_identifiers(logged_in, work, phone):
    body = logged_in.get(url("case-detail", work)).content.decode()
    assert work.debtor.full_name in body
    assert work.debtor.national_id not in body
    assert work.debtor.masked_national_id in body
    assert phone.value not in body
    assert phone.masked_value in body
    assert "300.00" in body


def test_case_page_runs_a_bounded_number_of_queries(
    logged_in, work, debtor, django_assert_max_num_queries
):
    with time_machine.travel(DAYTIME, tick=False), django_assert_max_num_queries(32):
        logged_in.get(url("case-detail", work))
    for i in range(6):
        make_loan(debtor)
        make_contact_point(debtor, value=f"+861380099{i:04d}")
        Note.objects.create(debtor=debtor, author=work.assigned_to, body=f"note {i}")
    with time_machine.travel(DAYTIME, tick=False), django_assert_max_num_queries(32):
        response = logged_in.get(url("case-detail", work))
    assert response.status_code == 200


def test_call_menu_from_loaded_points_matches_the_queryset_menu(debtor, phone):
    from workspace.forms import PlaceCallForm

    make_contact_point(debtor, value="+8613700137000")
    make_contact_point(debtor, kind=ContactPoint.Kind.EMAIL, value="debtor@example.com")
    make_contact_point(debtor, value="+8613600136000", status=ContactPoint.Status.INVALID)
    loaded = list(debtor.contact_points.order_by("kind", "-is_primary", "id"))
    from_list = list(
        PlaceCallForm(debtor=debtor, contact_points=loaded).fields["contact_point"].choices
    )
    from_query = [
        (int(str(value)), label)
        for value, label in PlaceCallForm(debtor=debtor).fields["contact_point"].choices
    ]
    assert from_list == from_query
    assert from_list[0][0] == phone.pk  # the primary number first
    assert all("example.com" not in label for _pk, label in from_list)
    # The menu built from the list still checks the submitted number against the debtor's.
    foreign = make_contact_point(make_debtor(), value="+8613500135000")
    form = PlaceCallForm({"contact_point": foreign.pk}, debtor=debtor, contact_points=loaded)
    assert not form.is_valid()
    form = PlaceCallForm({"contact_point": phone.pk}, debtor=debtor, contact_points=loaded)
    assert form.is_valid() and form.cleaned_data["contact_point"] == phone


def test_call_outside_hours_is_refused_with_reason_and_times(logged_in, work, phone):
    with time_machine.travel(NIGHT, tick=False):
        response = logged_in.post(url("case-call", work), {"contact_point": phone.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Outside the contact hours" in body
    # Next allowed: 08:00 in Shanghai, shown in the debtor's zone and the viewer's (UTC).
    assert "8:00" in body and "12:00" in body
    decision = ContactDecision.objects.get(debtor_id=work.debtor_id)
    assert decision.allowed is False
    assert not ContactAttempt.objects.filter(debtor_id=work.debtor_id).exists()


def _outcome(code: str = "promise", **fields) -> dict:
    return {"code": DispositionCode.objects.get(code=code).pk, **fields}


def test_allowed_call_then_outcome_completes_the_attempt(logged_in, work, phone):
    with time_machine.travel(DAYTIME, tick=False):
        response = logged_in.post(url("case-call", work), {"contact_point": phone.pk})
        assert response.status_code == 302
        attempt = ContactAttempt.objects.get(debtor_id=work.debtor_id)
        assert attempt.outcome == "pending"
        page = logged_in.get(response["Location"])
        wrap = page.context["forms"]["outcome"]
        assert wrap.outcome.initial["attempt"] == attempt.pk
        body = page.content.decode()
        # The call bar: the number to dial as a tel: link, the outcome ready for the keyboard.
        assert f'href="tel:{phone.value}"' in body
        assert "autofocus" in str(wrap.outcome["code"])
        response = logged_in.post(
            url("case-outcome", work), _outcome(attempt=attempt.pk, note="will pay")
        )
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.outcome == "conversation"
    assert CallDisposition.objects.get(attempt=attempt).note == "will pay"
    timeline = logged_in.get(url("case-detail", work)).content.decode()
    assert "will pay" in timeline
    assert 'href="tel:' not in timeline  # the call is wrapped up: no number until the gate asks


def test_wrong_number_outcome_marks_the_number(logged_in, work, phone):
    with time_machine.travel(DAYTIME, tick=False):
        logged_in.post(url("case-call", work), {"contact_point": phone.pk})
        attempt = ContactAttempt.objects.get(debtor_id=work.debtor_id)
        logged_in.post(url("case-outcome", work), _outcome("wrong_number", attempt=attempt.pk))
    phone.refresh_from_db()
    assert phone.status == ContactPoint.Status.WRONG_PARTY


def test_wrap_up_records_outcome_and_promise_together(logged_in, work, loan, phone):
    with time_machine.travel(DAYTIME, tick=False):
        logged_in.post(url("case-call", work), {"contact_point": phone.pk})
        attempt = ContactAttempt.objects.get(debtor_id=work.debtor_id)
        response = logged_in.post(
            url("case-outcome", work),
            _outcome(
                attempt=attempt.pk,
                note="pays Friday",
                follow_up="promise",
                **{"promise-loan": loan.pk, "promise-amount": "50.00"},
                **{"promise-promised_date": "2026-03-10"},
            ),
        )
        assert response.status_code == 302
        page = logged_in.get(url("case-detail", work)).content.decode()
    attempt.refresh_from_db()
    assert attempt.outcome == "conversation"
    promise = PromiseToPay.objects.get(loan=loan)
    assert (promise.amount, promise.promised_date) == (Decimal("50.00"), dt.date(2026, 3, 10))
    assert "Call outcome and promise to pay recorded." in page
    # The timeline says what was promised: the amount with its currency, and the date.
    assert "CN¥50.00" in page or "¥50.00" in page
    assert "Mar 10, 2026" in page


def test_wrap_up_with_a_bad_promise_records_nothing_and_keeps_what_was_typed(
    logged_in, work, loan, phone
):
    with time_machine.travel(DAYTIME, tick=False):
        logged_in.post(url("case-call", work), {"contact_point": phone.pk})
        attempt = ContactAttempt.objects.get(debtor_id=work.debtor_id)
        typed = _outcome(
            attempt=attempt.pk,
            note="pays Friday",
            follow_up="promise",
            **{"promise-loan": loan.pk, "promise-amount": "12.345"},
            **{"promise-promised_date": "2026-03-10"},
        )
        bad = logged_in.post(url("case-outcome", work), typed)
        assert bad.status_code == 400
        body = bad.content.decode()
        assert 'value="12.345"' in body
        assert "pays Friday" in body
        # The error is next to its field.
        wrap = bad.context["forms"]["outcome"]
        assert wrap.forms["promise"].errors["amount"]
        assert 'id="id_promise-amount-errors"' in body
        past = logged_in.post(
            url("case-outcome", work),
            {**typed, "promise-amount": "50", "promise-promised_date": "2026-01-01"},
        )
        assert past.status_code == 400
        assert "cannot be dated in the past" in past.content.decode()
    # Nothing of it was kept: the outcome waits, no promise.
    attempt.refresh_from_db()
    assert attempt.outcome == "pending"
    assert not CallDisposition.objects.filter(attempt=attempt).exists()
    assert not PromiseToPay.objects.exists()


def test_wrap_up_then_next_case_goes_to_the_next_case(logged_in, work, loan, phone, collector):
    other = make_debtor(full_name="Next Debtor")
    make_loan(other)
    make_contact_point(other, value="+8613900139000")
    other_case = make_case(other, collector)
    with time_machine.travel(DAYTIME, tick=False):
        logged_in.post(url("case-call", work), {"contact_point": phone.pk})
        attempt = ContactAttempt.objects.get(debtor_id=work.debtor_id)
        response = logged_in.post(
            url("case-outcome", work), _outcome("no_answer", attempt=attempt.pk, then="next")
        )
        assert response["Location"] == url("case-detail", other_case)
        # Through htmx the browser is told to go there itself.
        logged_in.post(
            url("case-call", other_case), {"contact_point": other.contact_points.get().pk}
        )
        attempt = ContactAttempt.objects.get(debtor_id=other.pk)
        response = logged_in.post(
            url("case-outcome", other_case),
            _outcome("no_answer", attempt=attempt.pk, then="next"),
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("home")  # both were just worked: nothing next


def test_plan_without_discount_starts_at_once(logged_in, work, loan):
    with time_machine.travel(DAYTIME, tick=False):
        response = logged_in.post(
            url("case-outcome", work),
            _outcome(
                follow_up="plan",
                **{"plan-loan": loan.pk, "plan-count": 3, "plan-frequency": "monthly"},
                **{"plan-first_date": "2026-03-15"},
            ),
        )
    assert response.status_code == 302
    plan = RepaymentPlan.objects.get(loan=loan)
    assert plan.status == RepaymentPlan.Status.ACTIVE
    assert sum(i.amount_due for i in plan.installments.all()) == Decimal("300.00")
    inbound = ContactAttempt.objects.get(debtor_id=work.debtor_id)
    assert inbound.direction == "inbound"


def test_plan_with_discount_waits_for_approval(logged_in, work, loan):
    plan_fields = {
        "plan-loan": loan.pk,
        "plan-count": 2,
        "plan-frequency": "weekly",
        "plan-first_date": "2026-03-09",
        "plan-discount_amount": "30",
    }
    with time_machine.travel(DAYTIME, tick=False):
        missing_reason = logged_in.post(
            url("case-outcome", work), _outcome(follow_up="plan", **plan_fields)
        )
        assert missing_reason.status_code == 400
        assert "needs a reason" in missing_reason.content.decode()
        assert not ContactAttempt.objects.exists()
        logged_in.post(
            url("case-outcome", work),
            _outcome(follow_up="plan", **plan_fields, **{"plan-discount_reason": "hardship"}),
        )
    plan = RepaymentPlan.objects.get(loan=loan)
    assert plan.status == RepaymentPlan.Status.PROPOSED
    assert plan.needs_discount_approval


def test_plan_calculator_previews_without_saving(logged_in, work, loan):
    with time_machine.travel(DAYTIME, tick=False):
        response = logged_in.post(
            url("case-plan-preview", work),
            {
                "plan-loan": loan.pk,
                "plan-count": 3,
                "plan-frequency": "monthly",
                "plan-first_date": "2026-03-31",
            },
            headers={"HX-Request": "true"},
        )
    body = response.content.decode()
    assert "<html" not in body
    assert body.count("<tr>") >= 3
    assert "Apr 30, 2026" in body  # month ends are kept
    assert not RepaymentPlan.objects.exists()


def test_note_callback_and_hold(logged_in, work):
    with time_machine.travel(DAYTIME, tick=False):
        empty = logged_in.post(url("case-note", work), {"body": ""})
        assert empty.status_code == 400
        logged_in.post(url("case-note", work), {"body": "Asked for statement"})
        past = logged_in.post(
            url("case-outcome", work),
            _outcome(
                "callback_requested",
                follow_up="callback",
                **{"callback-due_at": "2026-03-01T09:00"},
            ),
        )
        assert past.status_code == 400
        assert 'value="2026-03-01T09:00"' in past.content.decode()
        logged_in.post(
            url("case-outcome", work),
            _outcome(
                "callback_requested",
                follow_up="callback",
                **{"callback-due_at": "2026-03-02T15:00"},
            ),
        )
        no_date = logged_in.post(url("case-hold", work), {"kind": "hardship", "reason": "lost job"})
        assert no_date.status_code == 400
        logged_in.post(url("case-hold", work), {"kind": "dispute", "reason": "not my loan"})
        page = logged_in.get(url("case-detail", work)).content.decode()
    assert Note.objects.get(debtor=work.debtor).body == "Asked for statement"
    assert Callback.objects.get(debtor=work.debtor).due_at == dt.datetime(
        2026, 3, 2, 15, 0, tzinfo=dt.UTC
    )
    work.debtor.refresh_from_db()
    assert work.debtor.dispute is True
    assert "Asked for statement" in page
    assert "Disputed" in page


def test_mark_contact_point(logged_in, work, phone):
    logged_in.post(
        url("case-contact-point", work), {"contact_point": phone.pk, "status": "invalid"}
    )
    phone.refresh_from_db()
    assert phone.status == ContactPoint.Status.INVALID


def test_reveal_is_logged(logged_in, work, phone, collector):
    response = logged_in.post(
        url("case-reveal", work, "national-id"), headers={"HX-Request": "true"}
    )
    assert work.debtor.national_id in response.content.decode()
    response = logged_in.post(
        url("case-reveal", work, "contact-point"),
        {"contact_point": phone.pk},
        headers={"HX-Request": "true"},
    )
    assert phone.value in response.content.decode()
    assert RevealLog.objects.filter(user=collector, debtor=work.debtor).count() == 2


def test_times_are_shown_in_the_viewers_zone(logged_in, work):
    session = logged_in.session
    session["viewer_timezone"] = "Asia/Shanghai"
    session.save()
    Note.objects.create(
        debtor=work.debtor,
        author=work.assigned_to,
        body="zone check",
        created_at=dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC),
    )
    body = logged_in.get(url("case-detail", work)).content.decode()
    assert "9:00" in body  # 01:00 UTC is 09:00 in Shanghai


@pytest.mark.parametrize("name", ["outcome", "note", "message", "hold"])
def test_closed_panels_load_their_form_when_opened(logged_in, work, name):
    response = logged_in.get(url("case-panel", work, name), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<form" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_unknown_panel_is_404(logged_in, work):
    assert logged_in.get(url("case-panel", work, "nope")).status_code == 404


def test_sms_from_a_template_passes_the_gate_and_is_sent(
    logged_in, work, phone, settings, tmp_path
):
    from messaging.models import MessageTemplate

    template = MessageTemplate.objects.filter(channel="sms").first()
    assert template is not None, "the shipped templates include SMS ones"
    settings.REMINDER_OUTBOX_DIR = str(tmp_path)
    with time_machine.travel(DAYTIME, tick=False):
        empty = logged_in.post(url("case-message", work), {"contact_point": phone.pk})
        assert empty.status_code == 400
        assert "Write a message or choose a template." in empty.content.decode()
        logged_in.post(
            url("case-message", work), {"contact_point": phone.pk, "template": template.key}
        )
        page = logged_in.get(url("case-detail", work)).content.decode()
    attempt = ContactAttempt.objects.get(debtor_id=work.debtor_id, channel="sms")
    assert attempt.outcome == "sent"
    assert ContactDecision.objects.get(debtor_id=work.debtor_id, channel="sms").allowed
    # What the message said is kept, and the timeline shows it.
    words = SentMessage.objects.get(attempt=attempt)
    assert words.body.strip()
    assert escape(words.body.splitlines()[0]) in page


def test_sms_at_night_is_refused_with_the_reason(logged_in, work, phone):
    with time_machine.travel(NIGHT, tick=False):
        response = logged_in.post(
            url("case-message", work), {"contact_point": phone.pk, "body": "Hello"}
        )
    assert "Outside the contact hours" in response.content.decode()
    assert not ContactAttempt.objects.filter(debtor_id=work.debtor_id).exists()


def test_dates_far_off_are_refused_on_the_page_with_their_field(logged_in, work, loan, phone):
    """A promise in 9999 and a plan of 120 installments from 9999: a 400 naming the field,
    never a server error, and nothing recorded."""
    with time_machine.travel(DAYTIME, tick=False):
        logged_in.post(url("case-call", work), {"contact_point": phone.pk})
        attempt = ContactAttempt.objects.get(debtor_id=work.debtor_id)
        promise = logged_in.post(
            url("case-outcome", work),
            _outcome(
                attempt=attempt.pk,
                follow_up="promise",
                **{"promise-loan": loan.pk, "promise-amount": "50.00"},
                **{"promise-promised_date": "9999-12-31"},
            ),
        )
        assert promise.status_code == 400
        assert promise.context["forms"]["outcome"].forms["promise"].errors["promised_date"]
        plan_fields = {
            "plan-loan": loan.pk,
            "plan-count": 120,
            "plan-frequency": "monthly",
            "plan-first_date": "9999-01-01",
        }
        plan = logged_in.post(url("case-outcome", work), _outcome(follow_up="plan", **plan_fields))
        assert plan.status_code == 400
        preview = logged_in.post(url("case-plan-preview", work), plan_fields)
        assert preview.status_code in (200, 400)
    assert not PromiseToPay.objects.exists() and not RepaymentPlan.objects.exists()
