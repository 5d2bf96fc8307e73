"""Debtors and contact points: validation errors that name the problem, history with actors."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from debtors.audit import acting_as
from debtors.models import ChannelConsent, ContactPoint, Debtor, Loan
from debtors.services import (
    channel_consent_record,
    contact_point_add,
    debtor_create,
    debtor_set_holds,
    loan_create,
)
from tests.factories import make_loan

pytestmark = pytest.mark.django_db


def test_phone_numbers_are_stored_in_e164(debtor):
    point = contact_point_add(actor="test", debtor=debtor, kind="mobile", value="138 0013 8000")

    assert point.value == "+8613800138000"


def test_an_invalid_phone_number_is_a_clear_error(debtor):
    with pytest.raises(ValidationError) as excinfo:
        contact_point_add(actor="test", debtor=debtor, kind="mobile", value="+86 12")

    assert "not a valid phone number" in str(excinfo.value.message_dict["value"])
    assert not ContactPoint.objects.exists()


def test_garbage_is_not_a_phone_number(debtor):
    with pytest.raises(ValidationError, match="is not a phone number"):
        contact_point_add(actor="test", debtor=debtor, kind="mobile", value="call me maybe")


def test_an_invalid_email_is_a_clear_error(debtor):
    with pytest.raises(ValidationError, match="not a valid email address"):
        contact_point_add(actor="test", debtor=debtor, kind="email", value="someone@")


def test_email_domains_are_lowercased(debtor):
    point = contact_point_add(actor="test", debtor=debtor, kind="email", value="Li.Wei@Example.COM")
    assert point.value == "Li.Wei@example.com"


def test_debtor_with_a_bad_contact_point_is_not_created():
    with pytest.raises(ValidationError) as excinfo:
        debtor_create(
            actor="test",
            external_ref="D-1",
            full_name="王小明",
            country="CN",
            contact_points=[
                {"kind": "mobile", "value": "+8613800138000"},
                {"kind": "email", "value": "nope"},
            ],
        )

    errors = excinfo.value.message_dict
    assert list(errors) == ["contact_points[1].value"]
    assert "nope is not a valid email address" in errors["contact_points[1].value"][0]
    assert not Debtor.objects.exists()
    assert not ContactPoint.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "Unknown time zone Mars/Olympus"),
        ("country", "XX", "Unknown country code XX"),
    ],
)
def test_unknown_zone_or_country_is_named(field, value, message):
    fields = {"external_ref": "D-2", "full_name": "Jane Roe", "country": "US", field: value}
    with pytest.raises(ValidationError) as excinfo:
        debtor_create(actor="test", **fields)
    assert message in str(excinfo.value.message_dict[field])


def test_national_id_is_masked(debtor):
    assert debtor.masked_national_id.endswith(debtor.national_id[-4:])
    assert debtor.national_id[:6] not in debtor.masked_national_id


def test_history_records_the_acting_user(debtor, supervisor):
    debtor_set_holds(
        actor=supervisor, debtor=debtor, changes={"dispute": True}, reason="Amount wrong"
    )

    latest = debtor.history.first()
    assert latest.dispute is True
    assert latest.history_user == supervisor
    assert latest.actor_label == "sam"


def test_history_records_a_named_system_actor(debtor):
    with acting_as("plan_reminders"):
        debtor.full_name = "Renamed"
        debtor.save()

    latest = debtor.history.first()
    assert latest.history_user is None
    assert latest.actor_label == "system: plan_reminders"


def test_holds_and_opt_outs(debtor, supervisor):
    debtor_set_holds(
        actor=supervisor,
        debtor=debtor,
        changes={
            "cease_communication": True,
            "hardship_pause_until": dt.date(2026, 6, 1),
            "opt_outs": ["sms", "email"],
        },
    )
    debtor.refresh_from_db()
    assert debtor.cease_communication and debtor.cease_communication_at is not None
    assert debtor.hardship_paused_on(dt.date(2026, 6, 1))
    assert not debtor.hardship_paused_on(dt.date(2026, 6, 2))
    assert set(
        ChannelConsent.objects.filter(debtor=debtor, opted_out_at__isnull=False).values_list(
            "channel", flat=True
        )
    ) == {"sms", "email"}

    debtor_set_holds(actor=supervisor, debtor=debtor, changes={"opt_outs": ["sms"]})
    assert set(
        ChannelConsent.objects.filter(debtor=debtor, opted_out_at__isnull=False).values_list(
            "channel", flat=True
        )
    ) == {"sms"}
    assert ChannelConsent.history.filter(channel="email").count() == 2


def test_unknown_hold_or_channel_is_refused(debtor, supervisor):
    with pytest.raises(ValidationError, match="Unknown channel"):
        debtor_set_holds(actor=supervisor, debtor=debtor, changes={"opt_outs": ["pigeon"]})
    with pytest.raises(ValidationError):
        debtor_set_holds(actor=supervisor, debtor=debtor, changes={"frozen": True})


def test_days_past_due_comes_from_the_oldest_unpaid_installment(debtor):
    loan = make_loan(
        debtor,
        installments=[(dt.date(2026, 3, 15), Decimal("50")), (dt.date(2026, 1, 15), Decimal("50"))],
    )

    assert loan.days_past_due(dt.date(2026, 1, 10)) == 0
    assert loan.days_past_due(dt.date(2026, 1, 15)) == 0
    assert loan.days_past_due(dt.date(2026, 2, 14)) == 30


def test_loan_create_validates_and_derives(debtor):
    loan = loan_create(
        actor="test",
        debtor=debtor,
        external_ref="L-9",
        currency="CNY",
        principal=Decimal("200.00"),
        installments=[
            (dt.date(2069, 2, 1), Decimal("100.00")),
            (dt.date(2069, 1, 1), Decimal("100.00")),
        ],
    )
    assert [i.due_date for i in loan.installments.order_by("sequence")] == [
        dt.date(2069, 1, 1),
        dt.date(2069, 2, 1),
    ]
    assert loan.oldest_unpaid_due_date == dt.date(2069, 1, 1)
    assert loan.status == Loan.Status.CURRENT
    assert loan.history.first().actor_label == "system: test"

    with pytest.raises(ValidationError, match="Unknown currency code ABC"):
        loan_create(
            actor="t",
            debtor=debtor,
            external_ref="L-10",
            currency="ABC",
            principal=Decimal("1"),
            installments=[],
        )
    with pytest.raises(ValidationError, match="Installment 1: The amount must not be negative"):
        loan_create(
            actor="t",
            debtor=debtor,
            external_ref="L-11",
            currency="CNY",
            principal=Decimal("1"),
            installments=[(dt.date(2069, 1, 1), Decimal("-1"))],
        )
    assert not Loan.objects.filter(external_ref__in=["L-10", "L-11"]).exists()


def test_consent_is_recorded_per_channel_and_unknown_channels_are_named(debtor, collector):
    point = contact_point_add(actor="test", debtor=debtor, kind="mobile", value="+8613800138000")

    consent = channel_consent_record(
        actor=collector, debtor=debtor, channel="sms", source="signed form", contact_point=point
    )

    assert consent.has_consent
    assert consent.consent_source == "signed form"
    assert consent.history.first().actor_label == "alice"
    with pytest.raises(ValidationError, match="Unknown channel fax"):
        channel_consent_record(actor=collector, debtor=debtor, channel="fax", source="x")
