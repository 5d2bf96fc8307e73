"""Templates: sandboxed placeholders checked at save time, SMS length, the signed link."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import signing
from django.core.exceptions import ValidationError

from messaging import templating
from messaging.models import MessageTemplate
from reminders.defaults import TEMPLATES


def _template(**fields) -> MessageTemplate:
    values = {"key": "t", "channel": "in_app", "language": "en", "subject": "", "body": "Hi"}
    values.update(fields)
    return MessageTemplate(**values)


def test_every_shipped_template_is_valid_and_exists(db):
    for key, channel, language, subject, body in TEMPLATES:
        templating.validate_template(channel=channel, language=language, subject=subject, body=body)
        assert MessageTemplate.objects.filter(key=key, channel=channel, language=language).exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ("Hello {{ first_name }}", "Unknown variable"),
        ("Hello {{ debtor.full_name }}", "placeholders"),
        ("Hello {% load static %}", "placeholders"),
        ("Hello {{ debtor_name }", "placeholders"),
        ("Hello {{ debtor_name|upper }}", "placeholders"),
        ("   ", "empty"),
    ],
)
def test_a_bad_template_is_refused_when_saved(db, body, message):
    with pytest.raises(ValidationError, match=message):
        _template(body=body).full_clean()


def test_sms_and_email_must_carry_the_opt_out():
    with pytest.raises(ValidationError, match="opt_out_text"):
        templating.validate_template(channel="sms", language="en", subject="", body="Pay now.")
    templating.validate_template(
        channel="sms", language="en", subject="", body="Pay now. {{ opt_out_text }}"
    )


def test_an_sms_too_long_for_the_policy_is_refused(settings):
    settings.REMINDER_SMS_MAX_SEGMENTS = 1
    with pytest.raises(ValidationError, match="segments"):
        templating.validate_template(
            channel="sms",
            language="en",
            subject="",
            body="{{ debtor_name }} owes {{ amount_due }} since {{ due_date }}: "
            "{{ self_service_link }} {{ opt_out_text }}",
        )


def test_sms_length_counts_gsm_and_ucs2():
    assert templating.sms_length("a" * 160) == templating.SmsLength(160, "GSM-7", 1)
    assert templating.sms_length("a" * 161).segments == 2
    assert templating.sms_length("€" * 80) == templating.SmsLength(160, "GSM-7", 1)
    assert templating.sms_length("您" * 70) == templating.SmsLength(70, "UCS-2", 1)
    assert templating.sms_length("您" * 71).segments == 2
    assert templating.sms_length("您" * 135).segments == 3


def test_render_substitutes_known_variables_only():
    context = dict.fromkeys(templating.VARIABLES, "x")
    context["debtor_name"] = "Ann {{ loan_ref }}"  # a value is never interpreted again
    out = templating.render_text("Hi {{debtor_name}}, {{ loan_ref }}", context)
    assert out == "Hi Ann {{ loan_ref }}, x"


def test_the_self_service_link_is_signed():
    issued = dt.datetime(2026, 3, 2, 9, 30, 15, 123_456, tzinfo=dt.UTC)
    link = templating.self_service_link(42, 7, issued=issued)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert templating.read_self_service_token(token) == templating.SelfServiceToken(
        debtor_id=42, loan_id=7, issued=issued
    )
    with pytest.raises(signing.BadSignature):
        templating.read_self_service_token(token[:-2] + "xx")


def test_a_token_made_before_tokens_carried_their_issue_instant_is_read():
    token = signing.dumps({"d": 42, "l": 7}, salt=templating.SELF_SERVICE_SALT, compress=True)
    assert templating.read_self_service_token(token) == templating.SelfServiceToken(
        debtor_id=42, loan_id=7, issued=None
    )


@pytest.mark.parametrize(
    "payload",
    [[42, None, 5], [42, None, "not base 62"], [42, None, "z" * 40], [42, None], ["42", None, "1"]],
    ids=repr,
)
def test_a_signed_token_that_holds_no_link_is_refused(payload):
    token = signing.dumps(payload, salt=templating.SELF_SERVICE_SALT)
    with pytest.raises(ValueError):
        templating.read_self_service_token(token)


def test_links_are_issued_by_the_database_clock_which_moves_inside_a_transaction(db):
    first = templating.link_clock()
    token = templating.self_service_link(42).rstrip("/").rsplit("/", 1)[1]
    issued = templating.read_self_service_token(token).issued
    assert first < issued < templating.link_clock()


def test_amounts_and_dates_follow_the_language():
    from datetime import date
    from decimal import Decimal

    assert templating.format_money(Decimal("1234.5"), "USD", "en") == "$1,234.50"
    assert templating.format_money(Decimal("1234.5"), "CNY", "zh-hans") == "¥1,234.50"
    assert templating.format_day(date(2026, 3, 2), "zh-hans") == "2026年3月2日"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("currency", ["CNY", "USD", "GBP", "JPY"])
def test_amounts_are_written_as_babel_writes_them(language, currency):
    from babel.numbers import format_currency

    locale = templating.BABEL_LOCALES[language]
    for text in ("0", "0.5", "7.00", "100.00", "1234.56", "1234567.89", "999999999.99", "-5.25"):
        amount = Decimal(text)
        assert templating.format_money(amount, currency, language) == format_currency(
            amount, currency, locale=locale
        ), (text, currency, language)
