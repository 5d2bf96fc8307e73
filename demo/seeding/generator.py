"""A deterministic, cheap generator of a collections portfolio.

Every debtor is drawn from its own ``random.Random`` seeded with ``(seed, debtor number)``, so
debtor 17 of seed 42 is the same person whatever the size of the run or the chunking, and two
runs with the same seed and ``today`` produce the same rows. Dates are relative to ``today``
(the stages are "days past due" on that day); names, references and amounts are not.

The generator yields plain records (no models, no database) that two writers consume: the
ORM writer for small demos (``demo.seeding.orm``) and the PostgreSQL COPY writer for large
benchmark portfolios (``demo.seeding.copy``). Amounts are integers in minor units (cents)
here and become ``Decimal`` only at the edges; every currency used has two decimal places.

The first debtors are a showcase: their first loan is forced into each stage and story (every
band of days past due, an active plan, a broken plan, a kept plan, promises kept, broken and
pending, holds and opt-outs), so that even a tiny demo shows every case.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
import itertools
import random
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field

from debtors.products import PRODUCT_LABELS
from demo.seeding import names

UTC = dt.UTC


# Draws from ``Random.random()`` only: a few times cheaper than ``randint``/``choice`` (this
# runs tens of millions of times for a benchmark portfolio) and stable across Python versions.
def _int(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high]."""
    return low + int(rng.random() * (high - low + 1))


def _below(rng: random.Random, count: int) -> int:
    return int(rng.random() * count)


def _pick(rng: random.Random, items):
    return items[int(rng.random() * len(items))]


def _weighted(items, weights):
    """A picker drawing ``items`` with the given integer weights."""
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]

    def pick(rng: random.Random):
        return items[bisect.bisect_right(cumulative, rng.random() * total)]

    return pick


# Stages of a loan on ``today``: (name, lowest and highest days past due, weight).
PAID = "paid"
PRE_DUE = "pre_due"
STAGES = (
    (PAID, 0, 0, 10),
    (PRE_DUE, 0, 0, 36),
    ("dpd_1_30", 1, 30, 16),
    ("dpd_31_60", 31, 60, 10),
    ("dpd_61_90", 61, 90, 8),
    ("dpd_91_180", 91, 180, 10),
    ("dpd_181_plus", 181, 720, 10),
)
_STAGE_RANGE = {s[0]: (s[1], s[2]) for s in STAGES}
_STAGE_PICK = _weighted([s[0] for s in STAGES], [s[3] for s in STAGES])

# The showcase: the first loan of debtor n (n < len) is built as SHOWCASE[n] asks.
SHOWCASE = (
    ("pre_due", {}),
    ("dpd_1_30", {"promise": "pending"}),
    ("dpd_31_60", {"promise": "kept"}),
    ("dpd_61_90", {"promise": "broken"}),
    ("dpd_91_180", {"plan": "active"}),
    ("dpd_181_plus", {}),
    ("paid", {"plan": "kept"}),
    ("dpd_91_180", {"plan": "broken"}),
    ("dpd_31_60", {"plan": "active", "discount": True}),
    ("dpd_1_30", {"partial": True}),
    ("dpd_181_plus", {"fixed_status": "legal"}),
    ("paid", {}),
)
SHOWCASE_DEBTOR_FLAGS = {
    1: {"opt_out": "sms"},
    2: {"timezone": ""},
    3: {"hold": "dispute"},
    4: {"timezone": "", "foreign_phone": True},
    5: {"hold": "cease_communication"},
    7: {"hold": "hardship"},
    9: {"opt_out": "call_point"},
    10: {"hold": "bankruptcy"},
    11: {"contact_status": "wrong_party"},
}

COUNTRIES = (("CN", 45), ("US", 25), ("GB", 10), ("SG", 10), ("HK", 10))
_COUNTRY_PICK = _weighted([c for c, _w in COUNTRIES], [w for _c, w in COUNTRIES])
_FREQUENCY_PICK = _weighted(("monthly", "fortnightly", "weekly"), (70, 20, 10))

# The products the back office knows by name (``debtors.products``), in a fixed order.
PRODUCTS = tuple(PRODUCT_LABELS)
# Principal ranges in whole units of each currency.
PRINCIPAL_UNITS = {
    "CNY": (2_000, 80_000),
    "USD": (500, 15_000),
    "GBP": (400, 12_000),
    "SGD": (800, 20_000),
    "HKD": (4_000, 120_000),
}
TERMS = (3, 3, 6, 6, 6, 9, 12, 12)
APRS = (8, 12, 18, 24, 30, 36)
PAYMENT_METHODS = (
    ("bank_transfer", "bank_feed"),
    ("card", "card_gateway"),
    ("wallet", "wallet_gateway"),
    ("direct_debit", "bank_feed"),
    ("cash", "manual"),
)
PLAN_GRACE_DAYS = 3

# The collectors' calls while a loan is late, over the last CALL_HISTORY_DAYS, every 4 to 9
# days, in the debtor's daytime. Whether a call is answered is where the portfolio's
# behaviour shows: a debtor about to pay (a payment of theirs follows within 30 days) answers
# with CALL_ANSWERED_PAYING, any other with CALL_ANSWERED_NOT_PAYING. So contact success
# carries a real signal for the propensity score, beside days past due (a debtor who fell
# behind stays behind: the stages) and broken promises (made after the last payment, never
# followed by one).
CALL_HISTORY_DAYS = 150
CALL_GRACE_DAYS = 3
CALL_ANSWERED_PAYING = 0.6
CALL_ANSWERED_NOT_PAYING = 0.12
CALL_UNANSWERED = ("no_answer", "no_answer", "busy", "left_message")
# Half the conversations end in a promise: kept when a payment follows within
# PROMISE_KEPT_DAYS (the promise was for that payment); broken a few days later when none
# follows for PROMISE_BROKEN_DAYS (a debtor who breaks a promise stays silent a while).
CALL_PROMISE_SHARE = 0.5
PROMISE_KEPT_DAYS = 14
PROMISE_BROKEN_DAYS = 75


@dataclass(slots=True)
class InstallmentRecord:
    sequence: int
    due_date: dt.date
    amount_due: int
    amount_paid: int = 0
    paid_at: dt.datetime | None = None


@dataclass(slots=True)
class AllocationRecord:
    # Index into the loan's installments, or (plan index, installment index) for a plan.
    installment: int
    amount: int
    plan: int = -1


@dataclass(slots=True)
class PaymentRecord:
    amount: int
    received_at: dt.datetime
    method: str
    source: str
    external_ref: str
    allocations: list[AllocationRecord]


@dataclass(slots=True)
class PlanRecord:
    status: str
    frequency: str
    outstanding_at_creation: int
    total_amount: int
    discount_amount: int
    discount_reason: str
    discount_approved_at: dt.datetime | None
    created_at: dt.datetime
    activated_at: dt.datetime | None
    closed_at: dt.datetime | None
    installments: list[InstallmentRecord]


@dataclass(slots=True)
class PromiseRecord:
    amount: int
    promised_date: dt.date
    status: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None


@dataclass(slots=True)
class LoanRecord:
    external_ref: str
    product: str
    currency: str
    principal: int
    opened_on: dt.date
    risk_band: str
    fixed_status: str | None
    created_at: dt.datetime
    stage: str
    installments: list[InstallmentRecord]
    payments: list[PaymentRecord] = field(default_factory=list)
    plans: list[PlanRecord] = field(default_factory=list)
    promises: list[PromiseRecord] = field(default_factory=list)


@dataclass(slots=True)
class ContactRecord:
    kind: str
    value: str
    country: str
    timezone: str
    label: str
    owner: str
    owner_name: str
    status: str
    status_changed_at: dt.datetime | None
    is_primary: bool
    created_at: dt.datetime


@dataclass(slots=True)
class ConsentRecord:
    contact: int  # index into the debtor's contacts, -1 for the whole debtor
    channel: str
    consented_at: dt.datetime | None
    consent_source: str
    opted_out_at: dt.datetime | None
    opt_out_source: str


@dataclass(slots=True)
class CallRecord:
    loan: int  # index into the debtor's loans
    occurred_at: dt.datetime
    outcome: str


@dataclass(slots=True)
class DebtorRecord:
    number: int
    external_ref: str
    full_name: str
    national_id: str
    date_of_birth: dt.date
    country: str
    region: str
    preferred_language: str
    timezone: str
    holds: dict[str, tuple[str, dt.datetime]]
    hardship_pause_until: dt.date | None
    hardship_reason: str
    hardship_at: dt.datetime | None
    created_at: dt.datetime
    contacts: list[ContactRecord]
    consents: list[ConsentRecord]
    loans: list[LoanRecord]
    calls: list[CallRecord] = field(default_factory=list)


@dataclass(slots=True)
class LoanDerived:
    """What the services derive from a loan's schedule (see ``derive_loan``)."""

    oldest_unpaid_due_date: dt.date | None
    status: str
    outstanding: int
    principal_balance: int
    interest_balance: int


CLOSED_LOAN_STATUSES = ("paid", "charged_off")


def derive_loan(loan: LoanRecord, today: dt.date) -> LoanDerived:
    """The derived fields of a loan, by the same rules as the set-based SQL in ``derive``.

    The schedule is the active plan's installments when the loan has one, else the loan's own.
    Outstanding is what is unpaid on that schedule; payments go to fees, then interest, then
    principal, so what remains is principal first (``min(principal, outstanding)``) and the
    rest interest. Status: a fixed status (legal, charged off) stays; otherwise paid when
    nothing is outstanding, in plan under an active plan, delinquent when the oldest unpaid
    installment is past due, else current.
    """
    active = next((p for p in loan.plans if p.status == "active"), None)
    schedule = active.installments if active is not None else loan.installments
    outstanding = 0
    oldest = None
    for inst in schedule:
        open_amount = inst.amount_due - inst.amount_paid
        if open_amount > 0:
            outstanding += open_amount
            if oldest is None or inst.due_date < oldest:
                oldest = inst.due_date
    principal_balance = min(loan.principal, outstanding)
    if loan.fixed_status:
        status = loan.fixed_status
    elif outstanding == 0:
        status = "paid"
    elif active is not None:
        status = "in_plan"
    elif oldest is not None and oldest < today:
        status = "delinquent"
    else:
        status = "current"
    return LoanDerived(
        oldest, status, outstanding, principal_balance, outstanding - principal_balance
    )


@functools.lru_cache(maxsize=65536)
def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year = day.year + month0 // 12
    month = month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class PortfolioGenerator:
    """Yields ``DebtorRecord``s for ``debtors`` debtors or until ``loans`` loans are reached."""

    def __init__(
        self,
        *,
        seed: int,
        today: dt.date,
        debtors: int | None = None,
        loans: int | None = None,
        loans_per_debtor_max: int = 4,
        ref_prefix: str | None = None,
    ) -> None:
        if (debtors is None) == (loans is None):
            raise ValueError("Give either a number of debtors or a number of loans.")
        if loans_per_debtor_max < 1:
            raise ValueError("loans_per_debtor_max must be at least 1.")
        self.seed = seed
        self.today = today
        self.debtors = debtors
        self.loans = loans
        self.loans_per_debtor_max = loans_per_debtor_max
        self.ref_prefix = ref_prefix if ref_prefix is not None else f"S{seed}-"
        # Weights for 1, 2, 3, 4, ... loans per debtor (fewer loans are more common).
        weights = [45, 30, 15, 10] + [5] * max(0, loans_per_debtor_max - 4)
        self._loan_count_pick = _weighted(
            list(range(1, loans_per_debtor_max + 1)), weights[:loans_per_debtor_max]
        )

    def __iter__(self) -> Iterator[DebtorRecord]:
        n = 0
        made_loans = 0
        while True:
            if self.debtors is not None and n >= self.debtors:
                return
            if self.loans is not None and made_loans >= self.loans:
                return
            cap = None if self.loans is None else self.loans - made_loans
            record = self.record(n, loan_cap=cap)
            made_loans += len(record.loans)
            yield record
            n += 1

    def record(self, n: int, *, loan_cap: int | None = None) -> DebtorRecord:
        """Debtor ``n`` (from 0), whatever came before it.

        ``loan_cap`` keeps only its first loans: they are the ones generating it whole would
        make (the loans come last from the debtor's stream); the calls, drawn from a stream of
        their own, follow the loans it keeps.
        """
        return self._debtor(random.Random(self.seed * 1_000_003 + n), n, loan_cap)

    # --- debtors and contact points -------------------------------------------------------

    def _debtor(self, rng: random.Random, n: int, loan_cap: int | None) -> DebtorRecord:
        today = self.today
        flags = SHOWCASE_DEBTOR_FLAGS.get(n, {})
        country = "CN" if n < len(SHOWCASE) and n % 3 != 1 else None
        if country is None:
            country = _COUNTRY_PICK(rng)
        city, region, zone, landline_prefixes, streets = _pick(rng, names.PLACES[country])
        chinese = country in ("CN", "HK") or (country == "SG" and rng.random() < 0.6)
        if chinese:
            surname, surname_py = _weighted_pick(rng, names.ZH_SURNAMES)
            given, given_py = _pick(rng, names.ZH_GIVEN_NAMES)
            full_name = surname + given
            email_local = f"{given_py}.{surname_py}"
        else:
            first = _pick(rng, names.EN_FIRST_NAMES)
            last = _pick(rng, names.EN_LAST_NAMES)
            full_name = f"{first} {last}"
            email_local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        language = "zh-hans" if chinese and (country == "CN" or rng.random() < 0.5) else "en"
        birth = today - dt.timedelta(days=_int(rng, 20 * 365, 70 * 365))
        national_id = _national_id(rng, country, birth)
        # About one debtor in five has no explicit zone: it comes from the phones and address.
        explicit_zone = flags.get("timezone", zone if rng.random() >= 0.2 else "")
        created_at = _at(rng, today - dt.timedelta(days=_int(rng, 200, 900)))

        contacts: list[ContactRecord] = []
        mobile = _mobile(rng, country, landline_prefixes)
        contacts.append(self._contact(rng, "mobile", mobile, "", "", "", created_at, primary=True))
        if flags.get("foreign_phone", rng.random() < 0.03):
            # Lives in one country with a number from another: the zone is uncertain.
            other = "CN" if country != "CN" else "US"
            other_place = _pick(rng, names.PLACES[other])
            contacts.append(
                self._contact(
                    rng,
                    "mobile",
                    _mobile(rng, other, other_place[3]),
                    "",
                    "",
                    "",
                    created_at,
                    label="overseas",
                )
            )
        if rng.random() < 0.35:
            contacts.append(
                self._contact(
                    rng,
                    "landline",
                    _landline(rng, country, landline_prefixes),
                    "",
                    "",
                    "",
                    created_at,
                    label="home",
                )
            )
        if rng.random() < 0.75:
            domain = _pick(rng, names.EMAIL_DOMAINS[country])
            email = f"{email_local}{_int(rng, 1, 9999)}@{domain}"
            contacts.append(self._contact(rng, "email", email, "", "", "", created_at))
        if rng.random() < 0.8:
            address = _address(rng, country, city, streets)
            # Addresses carry the zone they are in when it is known (most are).
            address_zone = zone if rng.random() < 0.7 else ""
            contacts.append(
                self._contact(rng, "address", address, country, address_zone, "", created_at)
            )
        if rng.random() < 0.15:
            owner = _pick(rng, ("guarantor", "reference", "employer"))
            owner_name = (
                _pick(rng, names.EN_LAST_NAMES) + " Holdings"
                if owner == "employer"
                else _other_name(rng, chinese)
            )
            contacts.append(
                self._contact(
                    rng,
                    "mobile",
                    _mobile(rng, country, landline_prefixes),
                    "",
                    "",
                    owner,
                    created_at,
                    owner_name=owner_name,
                )
            )
        forced_status = flags.get("contact_status")
        if forced_status and len(contacts) == 1:
            contacts.append(
                self._contact(
                    rng,
                    "landline",
                    _landline(rng, country, landline_prefixes),
                    "",
                    "",
                    "",
                    created_at,
                    label="office",
                )
            )
        if forced_status:
            contacts[-1].status = forced_status
            contacts[-1].status_changed_at = _at(rng, today - dt.timedelta(days=_int(rng, 2, 60)))
        contacts = _unique_contacts(contacts)

        consents: list[ConsentRecord] = []
        mobile_index = 0
        if rng.random() < 0.85:
            consents.append(ConsentRecord(-1, "sms", created_at, "loan_application", None, ""))
        opt_out = flags.get("opt_out")
        roll = rng.random()
        if opt_out is None:
            opt_out = (
                "sms"
                if roll < 0.05
                else "email"
                if roll < 0.08
                else "call_point"
                if roll < 0.10
                else None
            )
        if opt_out:
            when = _at(rng, today - dt.timedelta(days=_int(rng, 1, 120)))
            source = _pick(rng, ("portal", "sms_stop_reply", "phone_call", "letter"))
            if opt_out == "call_point":
                consents.append(ConsentRecord(mobile_index, "call", None, "", when, source))
            else:
                existing = next(
                    (c for c in consents if c.contact == -1 and c.channel == opt_out), None
                )
                if existing is not None:
                    existing.opted_out_at = when
                    existing.opt_out_source = source
                else:
                    consents.append(ConsentRecord(-1, opt_out, None, "", when, source))

        holds: dict[str, tuple[str, dt.datetime]] = {}
        hardship_until = None
        hardship_reason = ""
        hardship_at = None
        hold = flags.get("hold")
        if hold is None:
            roll = rng.random()
            hold = (
                "dispute"
                if roll < 0.02
                else "bankruptcy"
                if roll < 0.025
                else "deceased"
                if roll < 0.027
                else "cease_communication"
                if roll < 0.037
                else "hardship"
                if roll < 0.047
                else None
            )
        if hold == "hardship":
            hardship_at = _at(rng, today - dt.timedelta(days=_int(rng, 1, 20)))
            hardship_until = today + dt.timedelta(days=_int(rng, 7, 60))
            hardship_reason = _pick(rng, HARDSHIP_REASONS)
        elif hold:
            holds[hold] = (
                _pick(rng, HOLD_REASONS[hold]),
                _at(rng, today - dt.timedelta(days=_int(rng, 1, 90))),
            )

        debtor = DebtorRecord(
            number=n,
            external_ref=f"{self.ref_prefix}D{n:07d}",
            full_name=full_name,
            national_id=national_id,
            date_of_birth=birth,
            country=country,
            region=region,
            preferred_language=language,
            timezone=explicit_zone,
            holds=holds,
            hardship_pause_until=hardship_until,
            hardship_reason=hardship_reason,
            hardship_at=hardship_at,
            created_at=created_at,
            contacts=contacts,
            consents=consents,
            loans=[],
        )
        count = self._loan_count_pick(rng)
        if loan_cap is not None:
            count = min(count, loan_cap)
        currency = names.CURRENCIES[country]
        for j in range(count):
            if n < len(SHOWCASE) and j == 0:
                stage, story = SHOWCASE[n]
            else:
                stage = _STAGE_PICK(rng)
                story = None
            ref = f"{self.ref_prefix}L{n:07d}-{j + 1}"
            debtor.loans.append(self._loan(rng, ref, currency, stage, story))
        debtor.calls = self._calls(n, debtor, zone)
        return debtor

    def _calls(self, n: int, debtor: DebtorRecord, zone: str) -> list[CallRecord]:
        """The calls made to the debtor's mobile while a loan was late (``CALL_*`` above)."""
        if debtor.holds or any(c.channel == "call" and c.opted_out_at for c in debtor.consents):
            return []
        # A stream of its own: the rest of the debtor is drawn exactly as before.
        rng = random.Random(self.seed * 7_000_019 + n)
        today = self.today
        start = today - dt.timedelta(days=CALL_HISTORY_DAYS)
        late: list[tuple[dt.date, dt.date, int]] = []
        for index, loan in enumerate(debtor.loans):
            if loan.fixed_status:
                continue
            for inst in loan.installments:
                begin = inst.due_date + dt.timedelta(days=CALL_GRACE_DAYS)
                end = inst.paid_at.date() if inst.paid_at is not None else today
                end = min(end, today - dt.timedelta(days=1))
                if end >= max(begin, start):
                    late.append((max(begin, start), end, index))
        if not late:
            return []
        late.sort()
        paid = sorted(p.received_at for loan in debtor.loans for p in loan.payments)
        local = _zone(zone)
        calls: list[CallRecord] = []
        day = late[0][0]
        for begin, end, index in late:
            day = max(day, begin)
            while day <= end:
                at = dt.datetime.combine(
                    day, dt.time(10 + _below(rng, 7), _below(rng, 60)), local
                ).astimezone(UTC)
                following = bisect.bisect_right(paid, at)
                paying = following < len(paid) and paid[following] <= at + dt.timedelta(days=30)
                answered = CALL_ANSWERED_PAYING if paying else CALL_ANSWERED_NOT_PAYING
                outcome = "conversation" if rng.random() < answered else _pick(rng, CALL_UNANSWERED)
                calls.append(CallRecord(index, at, outcome))
                if outcome == "conversation" and rng.random() < CALL_PROMISE_SHARE:
                    self._call_promise(rng, debtor.loans[index], at, paid, following)
                day += dt.timedelta(days=_int(rng, 4, 9))
        return calls

    def _call_promise(self, rng, loan: LoanRecord, at, paid, following) -> None:
        """The promise a conversation ended in: kept by the payment that follows it, or
        broken when none does in time."""
        if following < len(paid) and paid[following] <= at + dt.timedelta(days=PROMISE_KEPT_DAYS):
            received = paid[following]
            payment = next((p for p in loan.payments if p.received_at == received), None)
            if payment is not None:
                loan.promises.append(
                    PromiseRecord(payment.amount, received.date(), "kept", at, received)
                )
            return
        if following < len(paid) and paid[following] <= at + dt.timedelta(days=PROMISE_BROKEN_DAYS):
            return
        promised = at.date() + dt.timedelta(days=_int(rng, 3, 7))
        resolved = dt.datetime.combine(promised + dt.timedelta(days=1), dt.time(0, 30), UTC)
        if resolved.date() >= self.today:
            return
        amount = max(100, loan.installments[0].amount_due // 100 * 100)
        loan.promises.append(PromiseRecord(amount, promised, "broken", at, resolved))

    def _contact(
        self,
        rng,
        kind,
        value,
        country,
        zone,
        owner,
        created_at,
        *,
        primary=False,
        label="",
        owner_name="",
    ):
        roll = rng.random()
        if owner:
            status = "unverified" if roll < 0.6 else "valid"
        else:
            status = (
                "valid"
                if roll < 0.78
                else "unverified"
                if roll < 0.9
                else "invalid"
                if roll < 0.96
                else "wrong_party"
            )
        if primary and status in ("invalid", "wrong_party"):
            status = "valid"
        changed = None
        if status != "unverified":
            changed = _at(rng, created_at.date() + dt.timedelta(days=_int(rng, 0, 150)))
            changed = min(changed, _at(rng, self.today - dt.timedelta(days=1)))
        return ContactRecord(
            kind=kind,
            value=value,
            country=country,
            timezone=zone,
            label=label,
            owner=owner or "self",
            owner_name=owner_name,
            status=status,
            status_changed_at=changed,
            is_primary=primary,
            created_at=created_at,
        )

    # --- loans ---------------------------------------------------------------------------

    def _loan(
        self, rng: random.Random, ref: str, currency: str, stage: str, story: dict | None
    ) -> LoanRecord:
        today = self.today
        low, high = PRINCIPAL_UNITS[currency]
        principal = _int(rng, low, high) // 10 * 10 * 100
        term = _pick(rng, TERMS)
        apr = _pick(rng, APRS)
        interest = principal * apr * term // 1200
        total = principal + interest
        per = total // term
        amounts = [per] * (term - 1) + [total - per * (term - 1)]

        if story is None:
            story = self._random_story(rng, stage)
        plan_kind = story.get("plan")

        if stage == PAID:
            last_due = today - dt.timedelta(days=_int(rng, 5, 400))
            first_due = add_months(last_due, -(term - 1))
            oldest_index = term  # nothing unpaid
        else:
            if stage == PRE_DUE:
                oldest_due = today + dt.timedelta(days=_int(rng, 0, 30))
            else:
                lo, hi = _STAGE_RANGE[stage]
                oldest_due = today - dt.timedelta(days=_int(rng, lo, hi))
            oldest_index = _below(rng, term)
            if stage == PRE_DUE and oldest_index == term - 1 and term > 1 and rng.random() < 0.5:
                oldest_index = 0
            first_due = add_months(oldest_due, -oldest_index)
        opened_on = add_months(first_due, -1)
        installments = [
            InstallmentRecord(i + 1, add_months(first_due, i), amounts[i]) for i in range(term)
        ]
        if stage != PAID:
            # Re-anchor: month arithmetic may clamp the day; the oldest unpaid keeps its date.
            installments[oldest_index].due_date = oldest_due

        fixed_status = story.get("fixed_status")
        loan = LoanRecord(
            external_ref=ref,
            product=_pick(rng, PRODUCTS),
            currency=currency,
            principal=principal,
            opened_on=opened_on,
            risk_band="low"
            if stage in (PAID, PRE_DUE)
            else "high"
            if stage in ("dpd_91_180", "dpd_181_plus")
            else "medium",
            fixed_status=fixed_status,
            created_at=_at(rng, opened_on),
            stage=stage,
            installments=installments,
        )
        method, source = _pick(rng, PAYMENT_METHODS)

        if plan_kind == "kept":
            self._kept_plan(rng, loan, method, source)
            return loan

        # Installments before the oldest unpaid one were paid around their due date.
        for index in range(min(oldest_index, term)):
            inst = installments[index]
            paid_on = inst.due_date + dt.timedelta(days=_int(rng, -5, 6))
            paid_on = min(paid_on, today - dt.timedelta(days=1))
            self._pay_installments(
                rng, loan, [(index, inst.amount_due)], _at(rng, paid_on), method, source
            )

        promise = story.get("promise")
        if (
            stage not in (PAID, PRE_DUE)
            and plan_kind is None
            and (story.get("partial") or promise == "kept")
        ):
            self._partial_payment(rng, loan, oldest_index, method, source, promise == "kept")
        if plan_kind == "active":
            self._active_plan(rng, loan, method, source, discount=story.get("discount", False))
        elif plan_kind == "broken":
            self._broken_plan(rng, loan)
        if promise in ("broken", "pending"):
            self._promise(rng, loan, promise)
        return loan

    def _random_story(self, rng: random.Random, stage: str) -> dict:
        story: dict = {}
        roll = rng.random()
        if stage == PAID:
            if roll < 0.2:
                story["plan"] = "kept"
            return story
        if stage == PRE_DUE:
            return story
        lo, _hi = _STAGE_RANGE[stage]
        if lo > 180:
            if roll < 0.15:
                story["fixed_status"] = "legal"
            elif roll < 0.3:
                story["fixed_status"] = "charged_off"
            elif roll < 0.45:
                story["plan"] = "broken"
            return story
        if lo > 30 and roll < 0.18:
            story["plan"] = "active"
            story["discount"] = rng.random() < 0.2
            return story
        if lo > 60 and roll < 0.33:
            story["plan"] = "broken"
            return story
        roll = rng.random()
        if roll < 0.12:
            story["promise"] = "pending"
        elif roll < 0.22:
            story["promise"] = "broken"
        elif roll < 0.3:
            story["promise"] = "kept"
        elif roll < 0.5:
            story["partial"] = True
        return story

    def _pay_installments(self, rng, loan, parts, received_at, method, source, plan=-1):
        """One payment covering ``parts`` [(installment index, amount)] of the loan or a plan."""
        schedule = loan.installments if plan < 0 else loan.plans[plan].installments
        allocations = []
        total = 0
        for index, amount in parts:
            inst = schedule[index]
            inst.amount_paid += amount
            if inst.amount_paid == inst.amount_due:
                inst.paid_at = received_at
            allocations.append(AllocationRecord(index, amount, plan))
            total += amount
        number = len(loan.payments) + 1
        payment = PaymentRecord(
            total, received_at, method, source, f"{loan.external_ref}-P{number}", allocations
        )
        loan.payments.append(payment)
        return payment

    def _partial_payment(self, rng, loan, index, method, source, for_promise):
        """Part of the oldest unpaid installment, paid after it fell due."""
        inst = loan.installments[index]
        days_late = (self.today - inst.due_date).days
        if days_late < 3:
            return
        amount = inst.amount_due * _int(rng, 10, 90) // 100 // 100 * 100
        if amount <= 0:
            return
        received_on = inst.due_date + dt.timedelta(days=_int(rng, 1, days_late - 2))
        received_at = _at(rng, received_on)
        payment = self._pay_installments(rng, loan, [(index, amount)], received_at, method, source)
        if for_promise:
            created = received_at - dt.timedelta(days=_int(rng, 1, 4), hours=_int(rng, 0, 5))
            promised = received_on + dt.timedelta(days=_int(rng, 0, 3))
            loan.promises.append(
                PromiseRecord(payment.amount, promised, "kept", created, received_at)
            )

    def _promise(self, rng, loan, status):
        today = self.today
        derived = derive_loan(loan, today)
        if derived.outstanding <= 0:
            return
        last_payment = max((p.received_at for p in loan.payments), default=None)
        amount = min(
            derived.outstanding,
            max(100, derived.outstanding * _pick(rng, (10, 25, 50, 100)) // 100 // 100 * 100),
        )
        if status == "pending":
            created = _at(rng, today - dt.timedelta(days=_int(rng, 1, 5)))
            promised = today + dt.timedelta(days=_int(rng, 0, 14))
            loan.promises.append(PromiseRecord(amount, promised, "pending", created, None))
            return
        # Broken: made after the last payment, its date passed with nothing paid.
        days_late = (
            (today - derived.oldest_unpaid_due_date).days if derived.oldest_unpaid_due_date else 0
        )
        earliest = max(
            today - dt.timedelta(days=min(days_late, 45)),
            last_payment.date() + dt.timedelta(days=1)
            if last_payment
            else today - dt.timedelta(days=45),
        )
        latest = today - dt.timedelta(days=4)
        if earliest > latest:
            return
        created_on = earliest + dt.timedelta(days=_int(rng, 0, (latest - earliest).days))
        promised = created_on + dt.timedelta(days=_int(rng, 1, 3))
        resolved = dt.datetime.combine(promised + dt.timedelta(days=1), dt.time(0, 30), UTC)
        loan.promises.append(
            PromiseRecord(amount, promised, "broken", _at(rng, created_on), resolved)
        )

    def _plan_installments(self, first_due, count, frequency, total):
        per = total // count
        amounts = [per] * (count - 1) + [total - per * (count - 1)]
        dues = []
        for i in range(count):
            if frequency == "monthly":
                dues.append(add_months(first_due, i))
            else:
                step = 7 if frequency == "weekly" else 14
                dues.append(first_due + dt.timedelta(days=step * i))
        return [InstallmentRecord(i + 1, dues[i], amounts[i]) for i in range(count)]

    def _active_plan(self, rng, loan, method, source, *, discount):
        today = self.today
        derived = derive_loan(loan, today)
        oldest = derived.oldest_unpaid_due_date
        days_late = (today - oldest).days
        created_on = today - dt.timedelta(days=_int(rng, 1, max(1, min(days_late - 1, 120))))
        created_at = _at(rng, created_on)
        outstanding = derived.outstanding
        discount_amount = outstanding * _int(rng, 5, 20) // 100 // 100 * 100 if discount else 0
        total = outstanding - discount_amount
        frequency = _FREQUENCY_PICK(rng)
        count = _int(rng, 3, 12)
        first_due = created_on + dt.timedelta(days=_int(rng, 7, 21))
        # An active plan still has something to pay: its last installment is not yet due.
        while self._plan_installments(first_due, count, frequency, total)[-1].due_date < today:
            count += 1
        plan = PlanRecord(
            status="active",
            frequency=frequency,
            outstanding_at_creation=outstanding,
            total_amount=total,
            discount_amount=discount_amount,
            discount_reason=_pick(rng, DISCOUNT_REASONS) if discount_amount else "",
            discount_approved_at=created_at + dt.timedelta(hours=2) if discount_amount else None,
            created_at=created_at,
            activated_at=created_at + dt.timedelta(hours=3),
            closed_at=None,
            installments=self._plan_installments(first_due, count, frequency, total),
        )
        loan.plans.append(plan)
        plan_index = len(loan.plans) - 1
        # On track: everything due before today is paid, on time or a day or two early.
        for index, inst in enumerate(plan.installments):
            if inst.due_date >= today:
                break
            paid_on = max(created_on, inst.due_date - dt.timedelta(days=_int(rng, 0, 2)))
            self._pay_installments(
                rng,
                loan,
                [(index, inst.amount_due)],
                _at(rng, paid_on),
                method,
                source,
                plan=plan_index,
            )

    def _broken_plan(self, rng, loan):
        """A plan agreed after the loan fell behind whose first installment was never paid."""
        today = self.today
        derived = derive_loan(loan, today)
        oldest = derived.oldest_unpaid_due_date
        last_payment = max((p.received_at.date() for p in loan.payments), default=oldest)
        earliest = max(oldest, last_payment) + dt.timedelta(days=1)
        latest = today - dt.timedelta(days=14 + PLAN_GRACE_DAYS + 3)
        if earliest > latest:
            return
        created_on = earliest + dt.timedelta(days=_int(rng, 0, (latest - earliest).days))
        created_at = _at(rng, created_on)
        first_due = created_on + dt.timedelta(days=14)
        count = _int(rng, 3, 9)
        plan = PlanRecord(
            status="broken",
            frequency="monthly",
            outstanding_at_creation=derived.outstanding,
            total_amount=derived.outstanding,
            discount_amount=0,
            discount_reason="",
            discount_approved_at=None,
            created_at=created_at,
            activated_at=created_at + dt.timedelta(hours=1),
            closed_at=dt.datetime.combine(
                first_due + dt.timedelta(days=PLAN_GRACE_DAYS + 1), dt.time(1, 0), UTC
            ),
            installments=self._plan_installments(first_due, count, "monthly", derived.outstanding),
        )
        loan.plans.append(plan)

    def _kept_plan(self, rng, loan, method, source):
        """The loan fell behind, a plan was agreed and paid in full: the plan settled the loan.

        The money is allocated to the plan's installments; when the plan completes, the loan's
        own installments are closed as paid (without allocations of their own).
        """
        today = self.today
        installments = loan.installments
        term = len(installments)
        missed_from = _below(rng, term)
        for index in range(missed_from):
            inst = installments[index]
            paid_on = inst.due_date + dt.timedelta(days=_int(rng, -3, 3))
            self._pay_installments(
                rng, loan, [(index, inst.amount_due)], _at(rng, paid_on), method, source
            )
        count = _int(rng, 2, 6)
        # The plan ends before the loan's last due date ended (the loan is "paid" by then).
        last_plan_due = min(installments[-1].due_date, today - dt.timedelta(days=2))
        first_due = add_months(last_plan_due, -(count - 1))
        created_on = first_due - dt.timedelta(days=_int(rng, 7, 21))
        missed_due = installments[missed_from].due_date
        if created_on <= missed_due:
            # Not enough room for the story: pay the loan on schedule instead.
            for index in range(missed_from, term):
                inst = installments[index]
                paid_on = min(inst.due_date, today - dt.timedelta(days=1))
                self._pay_installments(
                    rng, loan, [(index, inst.amount_due)], _at(rng, paid_on), method, source
                )
            return
        outstanding = sum(i.amount_due for i in installments[missed_from:])
        created_at = _at(rng, created_on)
        plan = PlanRecord(
            status="kept",
            frequency="monthly",
            outstanding_at_creation=outstanding,
            total_amount=outstanding,
            discount_amount=0,
            discount_reason="",
            discount_approved_at=None,
            created_at=created_at,
            activated_at=created_at + dt.timedelta(hours=1),
            closed_at=None,
            installments=self._plan_installments(first_due, count, "monthly", outstanding),
        )
        loan.plans.append(plan)
        last = created_at
        for index, inst in enumerate(plan.installments):
            paid_on = max(created_on, inst.due_date - dt.timedelta(days=_int(rng, 0, 3)))
            payment = self._pay_installments(
                rng, loan, [(index, inst.amount_due)], _at(rng, paid_on), method, source, plan=0
            )
            last = max(last, payment.received_at)
        plan.closed_at = last
        for inst in installments[missed_from:]:
            inst.amount_paid = inst.amount_due
            inst.paid_at = last


HOLD_REASONS = {
    "dispute": (
        "Says the loan was already repaid in full",
        "Disputes the late fees",
        "Identity theft claimed: did not open this loan",
    ),
    "bankruptcy": ("Personal insolvency filing notified by the court",),
    "deceased": ("Family reported the debtor deceased; certificate requested",),
    "cease_communication": (
        "Written request to stop all contact",
        "Represented by a lawyer; contact the lawyer only",
    ),
}
HARDSHIP_REASONS = ("Lost job", "Hospital stay", "Family emergency", "Reduced working hours")
DISCOUNT_REASONS = (
    "Hardship settlement approved by supervisor",
    "Long-standing customer, one-off goodwill",
)


def _weighted_pick(rng: random.Random, items):
    # Triangular: earlier entries are more frequent, like real surname distributions.
    index = int(rng.triangular(0, len(items), 0))
    return items[min(index, len(items) - 1)]


# Every offset ``_at`` can draw, made once (building a timedelta per call was a tenth of the
# generating time).
_AT_OFFSETS = tuple(dt.timedelta(seconds=3600 + second) for second in range(14 * 3600))


def _at(rng: random.Random, day: dt.date) -> dt.datetime:
    """A time between 01:00 and 15:00 UTC on ``day``."""
    return _midnight(day) + _AT_OFFSETS[int(rng.random() * 14 * 3600)]


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> dt.tzinfo:
    return zoneinfo.ZoneInfo(name) if name else UTC


@functools.lru_cache(maxsize=65536)
def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def _digits(rng: random.Random, count: int) -> str:
    return f"{_below(rng, 10**count):0{count}d}"


def _us_subscriber(rng: random.Random) -> str:
    exchange = _int(rng, 200, 999)
    if exchange % 100 == 11:  # N11 codes (211, 911...) are not exchanges
        exchange += 1
    return f"{exchange}{_digits(rng, 4)}"


def _mobile(rng: random.Random, country: str, landline_prefixes) -> str:
    code = names.COUNTRY_CALLING_CODES[country]
    if country == "US":
        return f"+{code}{_pick(rng, landline_prefixes)}{_us_subscriber(rng)}"
    prefixes, digits = names.MOBILE_RANGES[country]
    return f"+{code}{_pick(rng, prefixes)}{_digits(rng, digits)}"


def _landline(rng: random.Random, country: str, landline_prefixes) -> str:
    code = names.COUNTRY_CALLING_CODES[country]
    if country == "US":
        return f"+{code}{_pick(rng, landline_prefixes)}{_us_subscriber(rng)}"
    return f"+{code}{_pick(rng, landline_prefixes)}{_digits(rng, names.LANDLINE_DIGITS[country])}"


def _address(rng: random.Random, country: str, city: str, streets) -> str:
    street = _pick(rng, streets)
    number = _int(rng, 1, 400)
    if country == "CN":
        return f"{city}{street}{number}号{_int(rng, 1, 30)}楼{_int(rng, 101, 2808)}室"
    if country == "US":
        return f"{number} {street}, Apt {_int(rng, 1, 40)}, {city} {_int(rng, 10000, 99999)}"
    if country == "GB":
        return f"{number} {street}, {city} E{_int(rng, 1, 18)} {_int(rng, 1, 9)}AB"
    if country == "SG":
        return f"{number} {street}, #{_int(rng, 1, 30):02d}-{_int(rng, 1, 120):02d}, Singapore {_int(rng, 100000, 829999)}"
    return f"Flat {_pick(rng, 'ABCDEFGH')}, {_int(rng, 1, 40)}/F, {number} {street}, {city}"


def _national_id(rng: random.Random, country: str, birth: dt.date) -> str:
    if country == "CN":
        return f"{_pick(rng, ('110101', '310101', '440106', '510104', '330106'))}{birth:%Y%m%d}{_digits(rng, 3)}{_pick(rng, '0123456789X')}"
    if country == "US":
        return f"{_int(rng, 100, 665):03d}-{_int(rng, 1, 99):02d}-{_int(rng, 1, 9999):04d}"
    if country == "GB":
        return f"{_pick(rng, 'ABCEGHJKLMNPRSTWXYZ')}{_pick(rng, 'ABCEGHJKLMNPRSTWXYZ')}{_digits(rng, 6)}{_pick(rng, 'ABCD')}"
    if country == "SG":
        return f"{_pick(rng, 'ST')}{_digits(rng, 7)}{_pick(rng, 'ABCDEFGHIZJ')}"
    return f"{_pick(rng, 'ABCDEGHKMPRVYZ')}{_digits(rng, 6)}({_int(rng, 0, 9)})"


def _other_name(rng: random.Random, chinese: bool) -> str:
    if chinese:
        return _weighted_pick(rng, names.ZH_SURNAMES)[0] + _pick(rng, names.ZH_GIVEN_NAMES)[0]
    return f"{_pick(rng, names.EN_FIRST_NAMES)} {_pick(rng, names.EN_LAST_NAMES)}"


def _unique_contacts(contacts: list[ContactRecord]) -> list[ContactRecord]:
    seen = set()
    unique = []
    for contact in contacts:
        key = (contact.kind, contact.value)
        if key not in seen:
            seen.add(key)
            unique.append(contact)
    return unique


@dataclass(slots=True)
class CaseDerived:
    status: str
    max_days_past_due: int
    total_outstanding: int
    broken_promises: int
    next_action_on: dt.date | None
    closed_reason: str = ""


def derive_case(debtor: DebtorRecord, loans: list[LoanDerived], today: dt.date) -> CaseDerived:
    """A debtor's case, by the same rules as ``derive.insert_cases``.

    Open loans are those not paid or charged off. The case is closed (paid) when no loan is
    open, else on hold while a hold flag is set or a hardship pause runs, in plan when a loan
    is, else open (the order of ``cases.lifecycle``).
    """
    max_dpd = 0
    total = 0
    any_open = False
    any_plan = False
    for derived in loans:
        if derived.status in CLOSED_LOAN_STATUSES:
            continue
        any_open = True
        any_plan = any_plan or derived.status == "in_plan"
        total += derived.outstanding
        if derived.oldest_unpaid_due_date is not None and derived.oldest_unpaid_due_date < today:
            max_dpd = max(max_dpd, (today - derived.oldest_unpaid_due_date).days)
    broken = sum(1 for loan in debtor.loans for p in loan.promises if p.status == "broken")
    on_hold = bool(debtor.holds) or (
        debtor.hardship_pause_until is not None and debtor.hardship_pause_until >= today
    )
    if not any_open:
        status = "closed"
    elif on_hold:
        status = "on_hold"
    elif any_plan:
        status = "in_plan"
    else:
        status = "open"
    # Nothing is scheduled: call tasks come from the reminders, callbacks from the collectors.
    closed_reason = "paid" if status == "closed" else ""
    return CaseDerived(status, max_dpd, total, broken, None, closed_reason)
