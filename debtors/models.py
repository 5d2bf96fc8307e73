"""The ledger of what is owed: debtors, contact points, loans, installments, payments, plans.

Writes go through ``debtors.services``; reads that need more than a filter live in
``debtors.selectors``. Amounts are ``Decimal`` and never negative where that makes no sense:
the database enforces it with check constraints, not only the forms.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from .audit import audited_history
from .crypto import EncryptedTextField, blind_index
from .money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, ZERO, validate_currency
from .validators import validate_birth_date, validate_country, validate_timezone


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(
        verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


class Channel(models.TextChoices):
    """The ways a debtor can be contacted. Every one of them passes the compliance gate."""

    CALL = "call", _("Call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    IN_APP = "in_app", _("In-app message")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")


class Language(models.TextChoices):
    EN = "en", _("English")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


class Debtor(models.Model):
    external_ref = models.CharField(_("external reference"), max_length=64, unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    # Encrypted at rest (debtors.crypto); searched through its blind index, which save()
    # keeps in step (a bulk write must set it too: crypto.blind_index).
    national_id = EncryptedTextField(
        _("national id"),
        blank=True,
        validators=[MaxLengthValidator(64)],
        help_text=_("Stored encrypted; collectors only ever see it masked."),
    )
    national_id_index = models.CharField(
        _("national id search key"), max_length=64, blank=True, db_index=True, editable=False
    )
    date_of_birth = models.DateField(
        _("date of birth"), null=True, blank=True, validators=[validate_birth_date]
    )
    country = models.CharField(_("country"), max_length=2, validators=[validate_country])
    region = models.CharField(
        _("region"), max_length=16, blank=True, help_text=_("ISO 3166-2 subdivision, e.g. US-CA.")
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.EN
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text=_("IANA name. Empty: derived from the debtor's phone numbers and address."),
    )

    dispute = models.BooleanField(_("dispute"), default=False)
    dispute_reason = models.TextField(_("dispute reason"), blank=True)
    dispute_at = models.DateTimeField(_("dispute raised at"), null=True, blank=True)
    bankruptcy = models.BooleanField(_("bankruptcy"), default=False)
    bankruptcy_reason = models.TextField(_("bankruptcy details"), blank=True)
    bankruptcy_at = models.DateTimeField(_("bankruptcy recorded at"), null=True, blank=True)
    deceased = models.BooleanField(_("deceased"), default=False)
    deceased_reason = models.TextField(_("deceased details"), blank=True)
    deceased_at = models.DateTimeField(_("deceased recorded at"), null=True, blank=True)
    cease_communication = models.BooleanField(_("cease communication"), default=False)
    cease_communication_reason = models.TextField(_("cease communication reason"), blank=True)
    cease_communication_at = models.DateTimeField(
        _("cease communication requested at"), null=True, blank=True
    )
    hardship_pause_until = models.DateField(_("hardship pause until"), null=True, blank=True)
    hardship_reason = models.TextField(_("hardship reason"), blank=True)
    hardship_at = models.DateTimeField(_("hardship recorded at"), null=True, blank=True)
    # Retention: a debtor under legal hold is never erased; an erased one keeps its reference,
    # loans, payments and the decision ledger, and nothing that names a person.
    legal_hold = models.BooleanField(
        _("legal hold"),
        default=False,
        # Set in the database too: imports and seeding insert debtors with plain SQL.
        db_default=False,
        help_text=_("Keeps the personal data past the retention period and refuses erasure."),
    )
    legal_hold_reason = models.TextField(
        _("legal hold reason"), blank=True, default="", db_default=""
    )
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    created_at = models.DateTimeField(_("created at"), default=django_tz.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = audited_history()

    HOLD_FLAGS = ("dispute", "bankruptcy", "deceased", "cease_communication")

    class Meta:
        verbose_name = _("debtor")
        verbose_name_plural = _("debtors")
        indexes = [models.Index(fields=["full_name"]), models.Index(fields=["country"])]
        permissions = [("erase_debtor", _("Can erase a debtor's personal data"))]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.external_ref})"

    def save(self, *args, **kwargs):
        self.national_id_index = blind_index(self.national_id or "")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "national_id" in update_fields:
            kwargs["update_fields"] = {*update_fields, "national_id_index"}
        super().save(*args, **kwargs)

    @property
    def masked_national_id(self) -> str:
        return mask(self.national_id, keep=4)

    def hardship_paused_on(self, day: dt.date) -> bool:
        return self.hardship_pause_until is not None and day <= self.hardship_pause_until


def mask(value: str, *, keep: int = 4) -> str:
    """``110101199003071234`` -> ``**************1234``."""
    if not value:
        return ""
    visible = value[-keep:] if len(value) > keep else ""
    return "*" * (len(value) - len(visible)) + visible


class ContactPoint(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile phone")
        LANDLINE = "landline", _("Landline")
        EMAIL = "email", _("Email")
        ADDRESS = "address", _("Postal address")
        IN_APP = "in_app", _("In-app id")

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", _("Unverified")
        VALID = "valid", _("Valid")
        INVALID = "invalid", _("Invalid")
        WRONG_PARTY = "wrong_party", _("Wrong party")

    class Owner(models.TextChoices):
        SELF = "self", _("The debtor")
        GUARANTOR = "guarantor", _("Guarantor")
        REFERENCE = "reference", _("Reference contact")
        EMPLOYER = "employer", _("Employer")

    PHONE_KINDS = (Kind.MOBILE, Kind.LANDLINE)
    # Which channels reach a debtor through which kind of contact point.
    CHANNELS_BY_KIND = {
        Kind.MOBILE: (Channel.CALL, Channel.SMS),
        Kind.LANDLINE: (Channel.CALL,),
        Kind.EMAIL: (Channel.EMAIL,),
        Kind.ADDRESS: (Channel.LETTER, Channel.VISIT),
        Kind.IN_APP: (Channel.IN_APP,),
    }

    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="contact_points", verbose_name=_("debtor")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.CharField(
        _("value"), max_length=500, help_text=_("Phones in E.164; emails lower-cased domain.")
    )
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text=_("For postal addresses: the country the address is in."),
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text=_("For postal addresses: the zone the address is in, when known."),
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    owner = models.CharField(
        _("belongs to"), max_length=16, choices=Owner.choices, default=Owner.SELF
    )
    owner_name = models.CharField(_("owner's name"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.UNVERIFIED
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    created_at = models.DateTimeField(_("created at"), default=django_tz.now)

    history = audited_history()

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints = [
            models.UniqueConstraint(
                fields=["debtor", "kind", "value"], name="contactpoint_unique_per_debtor"
            )
        ]
        indexes = [
            models.Index(fields=["value"]),
            # Bounces and complaints find an address whatever its case (``value__iexact``).
            models.Index(
                Upper("value"), name="contactpoint_email_any_case", condition=Q(kind="email")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked_value}"

    @property
    def is_phone(self) -> bool:
        return self.kind in self.PHONE_KINDS

    @property
    def is_usable(self) -> bool:
        return self.status not in (self.Status.INVALID, self.Status.WRONG_PARTY)

    @property
    def masked_value(self) -> str:
        if self.is_phone:
            return mask(self.value, keep=4)
        if self.kind == self.Kind.EMAIL:
            local, _at, domain = self.value.partition("@")
            return f"{local[:1]}***@{domain}"
        return self.value


class ChannelConsent(models.Model):
    """Consent and opt-out for one channel: for the whole debtor, or one contact point.

    A row with no contact point applies to every contact point of the debtor (for example
    "no SMS at all"); a row with a contact point applies to that number or address only.
    """

    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="channel_consents", verbose_name=_("debtor")
    )
    contact_point = models.ForeignKey(
        ContactPoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="channel_consents",
        verbose_name=_("contact point"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    consented_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    consent_source = models.CharField(_("consent source"), max_length=100, blank=True)
    expires_at = models.DateTimeField(
        _("consent expires at"),
        null=True,
        blank=True,
        help_text=_("After this instant the consent no longer counts."),
    )
    opted_out_at = models.DateTimeField(_("opted out at"), null=True, blank=True)
    opt_out_source = models.CharField(_("opt-out source"), max_length=100, blank=True)

    history = audited_history()

    class Meta:
        verbose_name = _("channel consent")
        verbose_name_plural = _("channel consents")
        constraints = [
            models.UniqueConstraint(
                fields=["debtor", "channel"],
                condition=Q(contact_point__isnull=True),
                name="consent_unique_debtor_channel",
            ),
            models.UniqueConstraint(
                fields=["contact_point", "channel"],
                condition=Q(contact_point__isnull=False),
                name="consent_unique_point_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.debtor_id} {self.channel}"

    @property
    def has_consent(self) -> bool:
        return (
            self.consented_at is not None
            and not self.is_opted_out
            and (self.expires_at is None or self.expires_at > django_tz.now())
        )

    @property
    def is_opted_out(self) -> bool:
        return self.opted_out_at is not None


class ConsentEvent(models.Model):
    """What happened to a consent and why: given, revoked, restored, expired, with the
    evidence (an inbound message's words and provider id, a form, a call). Append-only: the
    consent row holds the state the gate reads; these rows are its record."""

    class Kind(models.TextChoices):
        GIVEN = "given", _("Consent given")
        OPTED_OUT = "opted_out", _("Opted out")
        OPTED_IN = "opted_in", _("Opted back in")

    consent = models.ForeignKey(
        ChannelConsent, on_delete=models.CASCADE, related_name="events", verbose_name=_("consent")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("at"), default=django_tz.now)
    source = models.CharField(_("source"), max_length=200, blank=True)
    evidence = models.TextField(
        _("evidence"), blank=True, help_text=_("The message or record that caused it.")
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.consent_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Loan(models.Model):
    class Status(models.TextChoices):
        CURRENT = "current", _("Current")
        DELINQUENT = "delinquent", _("Delinquent")
        IN_PLAN = "in_plan", _("In plan")
        PAID = "paid", _("Paid")
        CHARGED_OFF = "charged_off", _("Charged off")
        LEGAL = "legal", _("Legal")

    # Nothing more is collected on a closed loan.
    CLOSED_STATUSES = (Status.PAID, Status.CHARGED_OFF)
    # Set by a person; what is paid or due never changes them.
    FIXED_STATUSES = (Status.CHARGED_OFF, Status.LEGAL)

    class RiskBand(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    external_ref = models.CharField(_("external reference"), max_length=64, unique=True)
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="loans", verbose_name=_("debtor")
    )
    product = models.CharField(_("product"), max_length=64, blank=True)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    principal = money_field(_("principal"))
    principal_balance = money_field(_("principal balance"))
    interest_balance = money_field(_("interest balance"))
    fees_balance = money_field(_("fees balance"))
    credit_balance = money_field(
        _("credit"), help_text=_("Overpayments kept for the debtor, never lost.")
    )
    opened_on = models.DateField(_("opened on"), default=dt.date.today)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.CURRENT
    )
    risk_band = models.CharField(
        _("risk band"), max_length=8, choices=RiskBand.choices, default=RiskBand.MEDIUM
    )
    # The risk band an active score model's band rules give the loan (``scoring``), or NULL:
    # while it is set, reminders follow it instead of the imported ``risk_band``.
    scored_band = models.CharField(  # noqa: DJ001 - NULL is "no model": the imported band rules
        _("scored risk band"),
        max_length=8,
        choices=RiskBand.choices,
        null=True,
        blank=True,
        editable=False,
    )
    # Derived by the services from the installments (or the active plan's installments):
    # the due date of the oldest one not fully paid. Days past due is computed from it.
    oldest_unpaid_due_date = models.DateField(
        _("oldest unpaid due date"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=django_tz.now)

    history = audited_history()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        constraints = [
            models.CheckConstraint(
                condition=Q(principal__gte=0)
                & Q(principal_balance__gte=0)
                & Q(interest_balance__gte=0)
                & Q(fees_balance__gte=0)
                & Q(credit_balance__gte=0),
                name="loan_amounts_not_negative",
            )
        ]
        indexes = [
            models.Index(fields=["status", "oldest_unpaid_due_date"]),
            models.Index(fields=["oldest_unpaid_due_date"]),
        ]

    def __str__(self) -> str:
        return self.external_ref

    @property
    def outstanding(self) -> Decimal:
        return self.principal_balance + self.interest_balance + self.fees_balance

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES

    def days_past_due(self, on: dt.date | None = None) -> int:
        """Days since the oldest unpaid installment fell due (0 when nothing is overdue)."""
        if self.oldest_unpaid_due_date is None:
            return 0
        on = on or django_tz.localdate()
        return max(0, (on - self.oldest_unpaid_due_date).days)


class Installment(models.Model):
    loan = models.ForeignKey(
        Loan, on_delete=models.CASCADE, related_name="installments", verbose_name=_("loan")
    )
    sequence = models.PositiveIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    amount_due = money_field(_("amount due"))
    amount_paid = money_field(_("amount paid"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    history = audited_history()

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["loan", "due_date", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "sequence"], name="installment_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(amount_due__gte=0)
                & Q(amount_paid__gte=0)
                & Q(amount_paid__lte=F("amount_due")),
                name="installment_amounts_valid",
            ),
        ]
        indexes = [models.Index(fields=["due_date"])]

    def __str__(self) -> str:
        return f"{self.loan_id} #{self.sequence} {self.due_date}"

    @property
    def amount_open(self) -> Decimal:
        return self.amount_due - self.amount_paid

    @property
    def is_paid(self) -> bool:
        return self.amount_paid >= self.amount_due


class Payment(models.Model):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")
        WALLET = "wallet", _("Digital wallet")
        DIRECT_DEBIT = "direct_debit", _("Direct debit")
        CASH = "cash", _("Cash")
        OTHER = "other", _("Other")

    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="payments", verbose_name=_("loan")
    )
    amount = money_field(_("amount"))
    received_at = models.DateTimeField(_("received at"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    source = models.CharField(
        _("source"), max_length=64, default="manual", help_text=_("The system that reported it.")
    )
    external_ref = models.CharField(_("external reference"), max_length=128)
    allocated_amount = money_field(_("allocated to installments"))
    credit_amount = money_field(_("kept as credit"))
    created_at = models.DateTimeField(_("posted at"), default=django_tz.now)

    history = audited_history()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"], name="payment_unique_per_source"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(allocated_amount__gte=0)
                & Q(credit_amount__gte=0)
                & Q(amount=F("allocated_amount") + F("credit_amount")),
                name="payment_fully_accounted",
            ),
        ]
        indexes = [models.Index(fields=["loan", "received_at"])]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_ref}"


class PaymentAllocation(models.Model):
    """How much of a payment went to one installment (of the loan or of a plan)."""

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="allocations", verbose_name=_("payment")
    )
    installment = models.ForeignKey(
        Installment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("installment"),
    )
    plan_installment = models.ForeignKey(
        "PlanInstallment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        verbose_name=_("plan installment"),
    )
    amount = money_field(_("amount"))

    history = audited_history()

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=Q(installment__isnull=False, plan_installment__isnull=True)
                | Q(installment__isnull=True, plan_installment__isnull=False),
                name="allocation_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} -> {self.amount}"


class RepaymentPlan(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("Active")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATUSES = (Status.PROPOSED, Status.ACTIVE)

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        FORTNIGHTLY = "fortnightly", _("Every two weeks")
        MONTHLY = "monthly", _("Monthly")

    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="plans", verbose_name=_("loan")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED
    )
    frequency = models.CharField(
        _("frequency"), max_length=16, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    outstanding_at_creation = money_field(_("outstanding when created"))
    total_amount = money_field(_("total of the plan"))
    discount_amount = money_field(_("discount"))
    discount_reason = models.TextField(_("discount reason"), blank=True)
    discount_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("discount approved by"),
    )
    discount_approved_at = models.DateTimeField(_("discount approved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=django_tz.now)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    history = audited_history()

    class Meta:
        verbose_name = _("repayment plan")
        verbose_name_plural = _("repayment plans")
        permissions = [("approve_discount", _("Can approve a repayment plan's discount"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0)
                & Q(discount_amount__gte=0)
                & Q(outstanding_at_creation=F("total_amount") + F("discount_amount")),
                name="plan_adds_up_to_outstanding",
            ),
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status__in=["proposed", "active"]),
                name="plan_one_open_per_loan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan} plan {self.pk}"

    @property
    def needs_discount_approval(self) -> bool:
        return self.discount_amount > 0 and self.discount_approved_at is None


class PlanInstallment(models.Model):
    plan = models.ForeignKey(
        RepaymentPlan,
        on_delete=models.CASCADE,
        related_name="installments",
        verbose_name=_("plan"),
    )
    sequence = models.PositiveIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    amount_due = money_field(_("amount due"))
    amount_paid = money_field(_("amount paid"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    history = audited_history()

    class Meta:
        verbose_name = _("plan installment")
        verbose_name_plural = _("plan installments")
        ordering = ["plan", "due_date", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "sequence"], name="plan_installment_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(amount_due__gt=0)
                & Q(amount_paid__gte=0)
                & Q(amount_paid__lte=F("amount_due")),
                name="plan_installment_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} #{self.sequence} {self.due_date}"

    @property
    def amount_open(self) -> Decimal:
        return self.amount_due - self.amount_paid


class PromiseToPay(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        CANCELLED = "cancelled", _("Cancelled")

    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="promises", verbose_name=_("loan")
    )
    amount = money_field(_("amount"))
    promised_date = models.DateField(_("promised date"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), default=django_tz.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    history = audited_history()

    class Meta:
        verbose_name = _("promise to pay")
        verbose_name_plural = _("promises to pay")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "promised_date"])]

    def __str__(self) -> str:
        return f"{self.loan} {self.amount} by {self.promised_date}"


class Erasure(models.Model):
    """One debtor's personal data erased: by the retention rule or on the debtor's request.
    The record an auditor reads; what was erased is counted, never kept."""

    class Reason(models.TextChoices):
        RETENTION = "retention", _("Retention period over")
        REQUEST = "request", _("Erasure request")

    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="erasures", verbose_name=_("debtor")
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    actor_label = models.CharField(_("actor"), max_length=150)
    erased_at = models.DateTimeField(_("erased at"), default=django_tz.now)
    counts = models.JSONField(_("rows changed"), default=dict)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"{self.debtor_id} {self.reason} {self.erased_at:%Y-%m-%d}"
