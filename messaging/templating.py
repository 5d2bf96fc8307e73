"""Message templates: a deliberately tiny, sandboxed formatter.

Why not Django's template engine: an admin-authored message needs variable substitution and
nothing else. Django templates bring tags (``{% include %}``, ``{% load %}``), filters and
attribute lookups on whatever objects sit in the context, and report an unknown variable only
by rendering it empty, at send time. This formatter accepts exactly ``{{ name }}`` where
``name`` is one of ``VARIABLES``; any other use of ``{{``, ``}}``, ``{%`` or ``%}`` is a syntax
error. The context is a flat dict of strings built here, so a template cannot reach a model,
a method or a setting. Every check runs when the template is saved (``validate_template``),
including the rendered SMS length for a worst-case sample, so a bad template never reaches a
worker.

The self-service link is built by ``self_service_link``: a URL carrying a token signed with
``django.core.signing`` (salt ``portal.self-service``); the portal reads it with
``read_self_service_token`` (``selfservice.links``). A token carries two instants. Its date,
the signature's timestamp, is the signing server's clock: the link works from it and expires
after the portal's link days. Its issue instant is the database server's clock
(``link_clock``), the one clock every server shares: revoking a debtor's links ends every link
issued before the revocation by that clock, even one whose date, from a clock running ahead,
is later than the revocation. Tokens made before they carried an issue instant are still read
(``read_self_service_token``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
)
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext_lazy as _

VARIABLES: dict[str, str] = {
    "debtor_name": _("The debtor's full name"),
    "amount_due": _("What is open on the installment, with its currency"),
    "outstanding": _("The loan's outstanding balance, with its currency"),
    "due_date": _("The installment's due date"),
    "days_past_due": _("Days since the installment fell due (0 before)"),
    "loan_ref": _("The loan's reference"),
    "self_service_link": _("The debtor's signed self-service link"),
    "opt_out_text": _("How to opt out (empty where the policy does not ask for it)"),
    "company_name": _("The lender's name"),
}
# Channels whose messages must carry the opt-out variable (some policies require it).
OPT_OUT_CHANNELS = frozenset({"sms", "email"})
# Channels with a subject line.
SUBJECT_CHANNELS = frozenset({"email", "letter", "in_app"})

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_STRAY = re.compile(r"\{\{|\}\}|\{%|%\}")
SELF_SERVICE_SALT = "portal.self-service"

BABEL_LOCALES = {"en": "en", "zh-hans": "zh_Hans_CN"}


class TemplateSyntaxError(ValidationError):
    pass


def placeholders(text: str) -> list[str]:
    """The variable names a text uses; raises ``TemplateSyntaxError`` on anything else."""
    names = _PLACEHOLDER.findall(text or "")
    leftover = _PLACEHOLDER.sub("", text or "")
    if _STRAY.search(leftover):
        raise TemplateSyntaxError(
            _("Only {{ variable }} placeholders are allowed; check the braces."),
            code="syntax",
        )
    unknown = sorted({n for n in names if n not in VARIABLES})
    if unknown:
        raise TemplateSyntaxError(
            _("Unknown variable(s): %(names)s. Known: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(VARIABLES)},
            code="unknown_variable",
        )
    return names


def render_text(text: str, context: dict[str, str]) -> str:
    """Substitute the placeholders; the text must have passed ``placeholders`` already."""
    placeholders(text)
    return _PLACEHOLDER.sub(lambda m: str(context[m.group(1)]), text or "")


# --- SMS length -----------------------------------------------------------------------------

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    characters: int
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int

    def __str__(self) -> str:
        return f"{self.characters} ({self.encoding}, {self.segments})"


def sms_length(text: str) -> SmsLength:
    """Characters, encoding and segments of an SMS (GSM-7 160/153, UCS-2 70/67 per segment)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        # UCS-2 counts UTF-16 code units: a character outside the BMP takes two.
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsLength(characters=units, encoding=encoding, segments=segments)


def sms_max_segments() -> int:
    return int(getattr(settings, "REMINDER_SMS_MAX_SEGMENTS", 3))


def check_sms_length(text: str) -> SmsLength:
    length = sms_length(text)
    if length.segments > sms_max_segments():
        raise ValidationError(
            _(
                "The SMS is %(n)d characters (%(encoding)s): %(segments)d segments, more than "
                "the %(max)d allowed."
            )
            % {
                "n": length.characters,
                "encoding": length.encoding,
                "segments": length.segments,
                "max": sms_max_segments(),
            },
            code="sms_too_long",
        )
    return length


# --- Values ---------------------------------------------------------------------------------


def format_money(amount: Decimal, currency: str, language: str) -> str:
    """The amount with its currency, as Babel writes it in the language's locale.

    Babel parses the locale's pattern on every call, which a dispatcher sending thousands of
    messages feels; the parts it puts around the number are taken once per currency and
    locale, and only the number is written here (a negative or unusual amount goes to Babel).
    """
    locale = BABEL_LOCALES.get(language, "en")
    parts = _money_parts(currency, locale)
    if parts is None or not amount.is_finite() or amount < 0:
        return format_currency(amount, currency, locale=locale)
    prefix, suffix, digits, symbols = parts
    return f"{prefix}{f'{amount:,.{digits}f}'.translate(symbols)}{suffix}"


@lru_cache(maxsize=256)
def _money_parts(currency: str, locale: str) -> tuple[str, str, int, dict] | None:
    """What Babel writes before and after a positive amount, the decimals it shows and its
    grouping and decimal signs; ``None`` when the sample does not split that way."""
    digits = get_currency_precision(currency)
    symbols = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})
    sample = Decimal("1234567.891")
    number = f"{sample:,.{digits}f}".translate(symbols)
    written = format_currency(sample, currency, locale=locale)
    if written.count(number) != 1:
        return None
    prefix, suffix = written.split(number)
    return prefix, suffix, digits, symbols


def format_day(day: dt.date, language: str) -> str:
    return _format_day(day, BABEL_LOCALES.get(language, "en"))


@lru_cache(maxsize=4096)
def _format_day(day: dt.date, locale: str) -> str:
    # Due dates repeat across a portfolio: each is written once per locale.
    return format_date(day, format="long", locale=locale)


def link_clock() -> dt.datetime:
    """Now by the database server's clock: the instant a link is issued, and a revocation
    recorded, are both read here, so they are ordered whatever the clocks of the servers that
    sign and revoke. ``clock_timestamp()``, not ``now()``: it moves inside a transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def self_service_link(
    debtor_id: int, loan_id: int | None = None, *, issued: dt.datetime | None = None
) -> str:
    """The debtor's signed self-service URL (the portal validates it with the same salt).

    ``issued``: the issue instant by ``link_clock``, read here when not given (a caller that
    makes many links reads it once for all of them)."""
    issued = issued or link_clock()
    # A list, not a dict: keys would lengthen every SMS that carries the link.
    payload = [debtor_id, loan_id, signing.b62_encode(_microseconds(issued))]
    token = signing.dumps(payload, salt=SELF_SERVICE_SALT, compress=True)
    base = getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/p/{token}/"


@dataclass(frozen=True)
class SelfServiceToken:
    debtor_id: int
    loan_id: int | None
    # By ``link_clock``; None for a token made before tokens carried their issue instant.
    issued: dt.datetime | None


def read_self_service_token(token: str, *, max_age: dt.timedelta | None = None) -> SelfServiceToken:
    """What a self-service token says. Raises ``signing.BadSignature`` when it is forged or
    older than ``max_age``, ``ValueError`` when what it holds is not a link's.

    Two shapes: ``[debtor, loan or null, issue instant]`` (the instant in microseconds since
    the epoch, in base 62), and ``{"d": debtor, "l": loan}``, as tokens were made before they
    carried their issue instant."""
    if max_age is None:
        max_age = dt.timedelta(days=getattr(settings, "SELF_SERVICE_LINK_DAYS", 60))
    payload = signing.loads(token, salt=SELF_SERVICE_SALT, max_age=max_age)
    if isinstance(payload, list) and len(payload) == 3:
        debtor_id, loan_id, encoded = payload
        issued = _instant(encoded)
    elif isinstance(payload, dict):
        debtor_id, loan_id, issued = payload.get("d"), payload.get("l"), None
    else:
        raise ValueError("not a self-service token")
    if not isinstance(debtor_id, int) or (loan_id is not None and not isinstance(loan_id, int)):
        raise ValueError("not a self-service token")
    return SelfServiceToken(debtor_id=debtor_id, loan_id=loan_id, issued=issued)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _microseconds(instant: dt.datetime) -> int:
    return (instant - _EPOCH) // dt.timedelta(microseconds=1)


def _instant(encoded) -> dt.datetime:
    if not isinstance(encoded, str):
        raise ValueError("the issue instant is not text")
    try:
        return _EPOCH + dt.timedelta(microseconds=signing.b62_decode(encoded))
    except OverflowError as exc:
        raise ValueError("the issue instant is out of range") from exc


@lru_cache(maxsize=64)
def opt_out_text(channel: str, language: str) -> str:
    # The catalogue does not change while a process runs: each text is translated once.
    with translation.override(language):
        if channel == "sms":
            return str(_("Reply STOP to opt out."))
        if channel == "email":
            return str(_("To stop these emails, reply UNSUBSCRIBE or use your self-service link."))
        return str(_("You can choose how we contact you on your self-service page."))


# A preview's sample link is issued at a fixed instant: it reads no clock, and its token is
# as long as a real one.
SAMPLE_ISSUED = dt.datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC)


def sample_context(channel: str, language: str) -> dict[str, str]:
    """A worst-case sample debtor (long name, large amount) for previews and length checks."""
    name = "Alexandra Montgomery-Richardson" if language == "en" else "欧阳娜娜"
    currency = "USD" if language == "en" else "CNY"
    return {
        "debtor_name": name,
        "amount_due": format_money(Decimal("123456.78"), currency, language),
        "outstanding": format_money(Decimal("1234567.89"), currency, language),
        "due_date": format_day(dt.date(2026, 9, 30), language),
        "days_past_due": "120",
        "loan_ref": "L-SAMPLE-0000001",
        "self_service_link": self_service_link(99_999_999, 99_999_999, issued=SAMPLE_ISSUED),
        "opt_out_text": opt_out_text(channel, language),
        "company_name": company_name(),
    }


def company_name() -> str:
    return getattr(settings, "REMINDER_COMPANY_NAME", "Example Lending")


# --- Validation and rendering ---------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    sms: SmsLength | None = None


def validate_template(*, channel: str, language: str, subject: str, body: str) -> Rendered:
    """Refuse a template that could fail or break the policy at send time; return a preview."""
    errors: dict[str, list] = {}
    for field, text in (("subject", subject), ("body", body)):
        try:
            placeholders(text)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    if not (body or "").strip():
        raise ValidationError({"body": _("The message is empty.")})
    if subject and channel not in SUBJECT_CHANNELS:
        raise ValidationError({"subject": _("This channel has no subject line.")})
    if channel in OPT_OUT_CHANNELS and "opt_out_text" not in placeholders(body):
        raise ValidationError(
            {"body": _("Messages on this channel must include {{ opt_out_text }}.")}
        )
    preview = render(
        channel=channel, subject=subject, body=body, context=sample_context(channel, language)
    )
    if channel == "sms":
        try:
            check_sms_length(preview.body)
        except ValidationError as exc:
            raise ValidationError({"body": exc.messages}) from exc
    return preview


def render(*, channel: str, subject: str, body: str, context: dict[str, str]) -> Rendered:
    text = render_text(body, context).strip()
    return Rendered(
        subject=render_text(subject, context).strip(),
        body=text,
        sms=sms_length(text) if channel == "sms" else None,
    )
