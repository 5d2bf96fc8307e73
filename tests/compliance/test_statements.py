"""The gate's hand-written writes give the ORM's answer on the same rows.

* ``DECIDE_MANY`` (``gate._decide_statement``, run by ``gate.request_many``) writes a batch's
  decisions, pending attempts and permits in one statement. Two identical debtors get the same
  requests: the first through ``request_many``, the second judged one request at a time by
  ``gate.judge`` on the ORM's snapshot (``orm_reference.load_with_orm``, which sees the
  attempts granted before it) and written with ``orm_reference.record_with_orm``. The rows
  written for each must agree field by field, ids and the random token aside.
* ``redeem_permits`` spends many permits in one UPDATE. Two identical sets of permits are
  spent, the first by it, the second one item at a time by the ORM's conditional UPDATE: good,
  expired, already used, wrong channel, wrong debtor, unknown and repeated tokens must get the
  same kind of answer and leave the same permits spent.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from compliance import gate
from compliance.models import ContactAttempt, ContactDecision, ContactPermit
from compliance.selectors import NoPolicy
from compliance.services import contact_attempt_record
from tests.factories import make_contact_point, make_debtor, make_loan

from .conftest import NY, local, set_rules
from .orm_reference import load_with_orm, record_with_orm

AT = local(NY, 2026, 3, 2, 10, 0)  # a Monday morning in New York


# --- DECIDE_MANY ---------------------------------------------------------------------------


class Twin:
    """A US debtor with two loans, a phone, an email, a reference's phone and one earlier call;
    ``points`` and ``loans`` name its rows the same way for both twins."""

    def __init__(self, n: int):
        self.debtor = make_debtor(country="US", timezone="America/New_York", national_id="")
        self.phone = make_contact_point(self.debtor, value=f"+1212555010{n}")
        self.email = make_contact_point(self.debtor, kind="email", value=f"d{n}@example.com")
        self.reference = make_contact_point(self.debtor, value=f"+1212555020{n}", owner="reference")
        self.loan = make_loan(self.debtor, currency="USD")
        self.other_loan = make_loan(self.debtor, currency="USD")
        contact_attempt_record(
            actor="tests",
            debtor=self.debtor,
            loan=self.loan,
            contact_point=self.phone,
            channel="call",
            direction="outbound",
            outcome="no_answer",
            occurred_at=AT - dt.timedelta(days=1),
        )
        self.points = {
            None: None,
            self.phone.pk: "phone",
            self.email.pk: "email",
            self.reference.pk: "reference",
        }
        self.loans = {None: None, self.loan.pk: "loan", self.other_loan.pk: "other loan"}

    def requests(self, collector, stranger) -> list[gate.GateRequest]:
        """Calls until the loan's weekly limit is reached (the batch counts its own grants),
        a call about another loan, an SMS without consent, an email, a reference's phone and
        a contact point of another debtor."""
        ask = gate.GateRequest
        pk = self.debtor.pk
        calls = [
            ask(pk, "call", collector, self.loan.pk, self.phone.pk),
            *(ask(pk, "call", "dialer", self.loan.pk, self.phone.pk) for _ in range(6)),
        ]
        return [
            *calls[:3],
            ask(pk, "sms", "system: reminder #1", self.loan.pk, self.phone.pk),
            ask(pk, "call", collector, self.other_loan.pk),
            *calls[3:],
            ask(pk, "email", collector, None, self.email.pk),
            ask(pk, "call", collector, self.loan.pk, self.reference.pk),
            ask(pk, "call", collector, self.loan.pk, stranger.pk),
        ]

    def written(self) -> dict[str, list[dict]]:
        """The rows the gate wrote for this debtor, in order, every reference named."""
        point, loan = self.points.get, self.loans.get
        own = {self.debtor.pk: "debtor"}.get
        decisions = list(ContactDecision.objects.filter(debtor=self.debtor).order_by("id"))
        attempts = list(
            ContactAttempt.objects.filter(debtor=self.debtor, decision__isnull=False).order_by("id")
        )
        permits = ContactPermit.objects.filter(debtor_id=self.debtor.pk).order_by("id")
        decision_at = {row.pk: n for n, row in enumerate(decisions)}
        attempt_at = {row.pk: n for n, row in enumerate(attempts)}
        return {
            "decisions": [
                {
                    **_fields(row, ContactDecision, "debtor_id", "loan_id", "contact_point_id"),
                    "debtor": own(row.debtor_id),
                    "loan": loan(row.loan_id),
                    "point": point(row.contact_point_id),
                }
                for row in decisions
            ],
            "attempts": [
                {
                    **_fields(row, ContactAttempt, "debtor_id", "loan_id", "contact_point_id"),
                    "debtor": own(row.debtor_id),
                    "loan": loan(row.loan_id),
                    "point": point(row.contact_point_id),
                    "decision_id": decision_at[row.decision_id],
                }
                for row in attempts
            ],
            "permits": [
                {
                    **_fields(row, ContactPermit, "token_hash", "debtor_id"),
                    "debtor": own(row.debtor_id),
                    "decision_id": decision_at[row.decision_id],
                    "attempt_id": attempt_at[row.attempt_id],
                }
                for row in permits
            ],
        }


def _fields(row, model, *left_out: str) -> dict:
    return {
        f.attname: getattr(row, f.attname)
        for f in model._meta.concrete_fields
        if not f.primary_key and f.attname not in left_out
    }


def _answer(outcome) -> tuple:
    """What ``request_many`` answered for one request, without its ids and token."""
    if isinstance(outcome, gate.Permit):
        return ("permit", _verdict(outcome.decision), outcome.expires_at)
    if isinstance(outcome, gate.Decision):
        return ("blocked", _verdict(outcome))
    return (type(outcome).__name__, str(outcome))


def _verdict(decision: gate.Decision) -> tuple:
    return (
        decision.allowed,
        tuple(decision.reasons),
        decision.next_allowed_at,
        tuple(decision.timezones),
        decision.policy_slug,
        decision.policy_version,
    )


def _request_with_orm(requests: list[gate.GateRequest], at: dt.datetime) -> list[tuple]:
    """The reference: each request judged on the ORM's snapshot, then written by the ORM."""
    answers = []
    for wanted in requests:
        try:
            snapshot = load_with_orm(
                debtor_id=wanted.debtor_id,
                channel=wanted.channel,
                contact_point_id=wanted.contact_point_id,
                at=at,
            )
            decision, policy = gate.judge(
                snapshot,
                channel=wanted.channel,
                at=at,
                loan_id=wanted.loan_id,
                contact_point_id=wanted.contact_point_id,
            )
        except (gate.GateInputError, ValidationError, NoPolicy) as exc:
            answers.append((type(exc).__name__, str(exc)))
            continue
        _row, _attempt, permit = record_with_orm(wanted, decision, policy, at=at)
        if permit is None:
            answers.append(("blocked", _verdict(decision)))
        else:
            answers.append(("permit", _verdict(decision), permit.expires_at))
    return answers


def test_decide_many_writes_what_the_orm_writes(db, collector):
    first, second = Twin(1), Twin(2)
    stranger = make_contact_point(make_debtor(), value="+8613800138001")
    untouched = set(ContactAttempt.objects.values_list("pk", "outcome", "decision_id"))
    assert first.written() == second.written()

    outcomes = gate.request_many(first.requests(collector, stranger), now=AT)
    by_orm = _request_with_orm(second.requests(collector, stranger), AT)

    assert [_answer(outcome) for outcome in outcomes] == by_orm
    written = first.written()
    assert written == second.written()

    # Not vacuous: grants, blocks for several reasons (one of them the batch's own grants)
    # and an error that writes nothing; the earlier attempts are left as they were.
    kinds = [answer[0] for answer in by_orm]
    assert kinds.count("permit") >= 5 and kinds.count("blocked") >= 3
    assert kinds[-1] == "GateInputError"
    reasons = {reason for answer in by_orm if answer[0] == "blocked" for reason in answer[1][1]}
    assert "rolling_limit" in reasons and len(reasons) >= 3
    assert any(answer[1][2] is not None for answer in by_orm if answer[0] == "blocked")
    assert len(written["decisions"]) == len(by_orm) - 1
    assert len(written["attempts"]) == len(written["permits"]) == kinds.count("permit")
    assert {row["actor_user_id"] for row in written["decisions"]} == {collector.pk, None}
    assert untouched <= set(ContactAttempt.objects.values_list("pk", "outcome", "decision_id"))
    # The permits handed out are the ones stored (only their hashes are).
    hashes = set(ContactPermit.objects.filter(debtor_id=first.debtor.pk).values_list("token_hash"))
    assert {(gate.hash_token(o.token),) for o in outcomes if isinstance(o, gate.Permit)} == hashes


# --- redeem_permits ------------------------------------------------------------------------

SPENT_AT = AT + dt.timedelta(minutes=1)


class Permits:
    """Permits of two debtors on the default policy (no limits on calls and SMS): live ones,
    one already spent, one expired."""

    ROLES = ("call", "sms", "used", "channel", "debtor", "twice", "expired", "other")

    def __init__(self):
        self.debtor = make_debtor(country="GB", timezone="Europe/London")
        self.other = make_debtor(country="GB", timezone="Europe/London")
        ask = gate.GateRequest
        d, o = self.debtor.pk, self.other.pk
        live = gate.request_many(
            [
                ask(d, "call", "tests"),
                ask(d, "sms", "tests"),
                ask(d, "call", "tests"),
                ask(d, "call", "tests"),
                ask(d, "call", "tests"),
                ask(d, "call", "tests"),
            ],
            now=AT,
        )
        (expired,) = gate.request_many([ask(d, "call", "tests")], now=AT - dt.timedelta(hours=1))
        (other,) = gate.request_many([ask(o, "call", "tests")], now=AT)
        self.permits = dict(zip(self.ROLES, [*live, expired, other], strict=True))
        assert all(isinstance(p, gate.Permit) for p in self.permits.values())
        gate.redeem_permit(self.token("used"), channel="call", debtor_id=d)

    def token(self, role: str) -> str:
        return self.permits[role].token

    def items(self) -> list[tuple[str, str, int]]:
        d, o = self.debtor.pk, self.other.pk
        return [
            (self.token("call"), "call", d),
            (self.token("sms"), "sms", d),
            (self.token("used"), "call", d),
            (self.token("channel"), "sms", d),
            (self.token("debtor"), "call", o),
            (self.token("twice"), "call", d),
            (self.token("expired"), "call", d),
            ("no-such-token", "call", d),
            (self.token("twice"), "call", d),
            (self.token("other"), "call", o),
            ("", "call", d),
        ]

    def role_of_attempt(self, attempt_id: int) -> str:
        return next(r for r, p in self.permits.items() if p.attempt_id == attempt_id)

    def spent(self) -> dict[str, dt.datetime | None]:
        found = {
            p.attempt_id: p.redeemed_at
            for p in ContactPermit.objects.filter(
                attempt_id__in=[p.attempt_id for p in self.permits.values()]
            )
        }
        return {role: found[p.attempt_id] for role, p in self.permits.items()}


KINDS = {
    "Unknown permit.": "unknown",
    "The permit is for another debtor or channel.": "mismatch",
    "The permit was already used.": "used",
    "The permit has expired.": "expired",
}


def _kinds(results, permits: Permits) -> list[tuple[str, str]]:
    return [
        ("invalid", KINDS[str(r)])
        if isinstance(r, gate.InvalidPermit)
        else ("attempt", permits.role_of_attempt(r.pk))
        for r in results
    ]


def _redeem_with_orm(items, permits: Permits, now: dt.datetime) -> list[tuple[str, str]]:
    """The reference: each item spends its permit with a conditional UPDATE, in order."""
    answers = []
    for token, channel, debtor_id in items:
        token_hash = gate.hash_token(token)
        spent = ContactPermit.objects.filter(
            token_hash=token_hash,
            channel=channel,
            debtor_id=debtor_id,
            redeemed_at__isnull=True,
            expires_at__gt=now,
        ).update(redeemed_at=now)
        permit = ContactPermit.objects.filter(token_hash=token_hash).first()
        if spent:
            answers.append(("attempt", permits.role_of_attempt(permit.attempt_id)))
        elif permit is None:
            answers.append(("invalid", "unknown"))
        elif permit.channel != channel or permit.debtor_id != debtor_id:
            answers.append(("invalid", "mismatch"))
        elif permit.redeemed_at is not None:
            answers.append(("invalid", "used"))
        else:
            answers.append(("invalid", "expired"))
    return answers


@pytest.fixture
def open_rules(db, settings):
    settings.COMPLIANCE_PERMIT_TTL_SECONDS = 300
    set_rules("default", {"call": {}, "sms": {}})


def _redeem_both(items_of) -> tuple[Permits, list, Permits, list]:
    with time_machine.travel(AT, tick=False) as clock:
        first, second = Permits(), Permits()
        assert first.spent() == second.spent()
        clock.move_to(SPENT_AT)
        by_sql = _kinds(gate.redeem_permits(items_of(first)), first)
        by_orm = _redeem_with_orm(items_of(second), second, SPENT_AT)
    return first, by_sql, second, by_orm


def test_redeem_permits_spends_what_the_orm_spends(open_rules):
    first, by_sql, second, by_orm = _redeem_both(Permits.items)

    assert by_sql == by_orm
    assert first.spent() == second.spent()
    # Every kind of answer is there, and some permits were left unspent.
    assert [kind for _answer, kind in by_orm] == [
        "call",
        "sms",
        "used",
        "mismatch",
        "mismatch",
        "twice",
        "expired",
        "unknown",
        "used",
        "other",
        "unknown",
    ]
    spent = first.spent()
    assert {role for role, when in spent.items() if when == SPENT_AT} == {
        "call",
        "sms",
        "twice",
        "other",
    }
    assert {role for role, when in spent.items() if when is None} == {
        "channel",
        "debtor",
        "expired",
    }


def test_a_token_named_for_another_debtor_then_its_own_goes_to_its_own_item(open_rules):
    def items(permits: Permits):
        token, d, o = permits.token("call"), permits.debtor.pk, permits.other.pk
        return [(token, "call", o), (token, "call", d)]

    first, by_sql, second, by_orm = _redeem_both(items)

    assert by_orm == [("invalid", "mismatch"), ("attempt", "call")]
    assert first.spent() == second.spent()
    assert by_sql == by_orm
