"""Cases and the collectors' work on them.

* ``Case``: one debtor's collection work, assigned to one collector at a time, with the figures
  the work queue sorts by.
* ``QueueWeights``: how much each of those figures weighs in a case's priority.
* ``DispositionCode`` and ``CallDisposition``: what came of a call.
* ``Note``, ``Callback``: what a collector wrote down, and when to call back.
* ``RevealLog``: every time someone unmasked a debtor's personal data.

Writes go through ``cases.services``; nothing here is changed by a view directly.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from compliance.models import ContactAttempt, Outcome
from debtors.audit import audited_history
from debtors.models import ContactPoint, Debtor, Loan


class Case(models.Model):
    """One debtor's collection work, assigned to one collector at a time."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PLAN = "in_plan", _("In plan")
        ON_HOLD = "on_hold", _("On hold")
        CLOSED = "closed", _("Closed")

    class ClosedReason(models.TextChoices):
        PAID = "paid", _("Paid")
        SETTLED = "settled", _("Settled")
        CHARGED_OFF = "charged_off", _("Charged off")
        DECEASED = "deceased", _("Deceased")
        BANKRUPT = "bankrupt", _("Bankrupt")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # Set only by ``cases.lifecycle`` from the ledger's facts, never by a person.
    AUTOMATIC_REASONS = (ClosedReason.PAID, ClosedReason.SETTLED)
    # A supervisor's decision, with a reason in words.
    MANUAL_REASONS = (
        ClosedReason.CHARGED_OFF,
        ClosedReason.DECEASED,
        ClosedReason.BANKRUPT,
        ClosedReason.WITHDRAWN,
    )

    debtor = models.OneToOneField(
        Debtor, on_delete=models.PROTECT, related_name="case", verbose_name=_("debtor")
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("assigned collector"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    closed_reason = models.CharField(
        _("closed because"), max_length=16, choices=ClosedReason.choices, blank=True, default=""
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    next_action_on = models.DateField(_("next action on"), null=True, blank=True)
    # Priority inputs; the work queue combines them with weights the admins tune.
    max_days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    total_outstanding = models.DecimalField(
        _("total outstanding"), max_digits=19, decimal_places=4, default=0
    )
    broken_promises = models.PositiveIntegerField(_("broken promises"), default=0)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    # The case's score band and that band's queue weight (written by ``scoring`` for the
    # active model and its band rules); blank and 0 without a model.
    score_band = models.CharField(
        _("score band"), max_length=1, blank=True, default="", db_default="", editable=False
    )
    score_weight = models.IntegerField(_("score weight"), default=0, db_default=0, editable=False)
    # The work queue's order: derived from the inputs above and QueueWeights by
    # cases.services.case_priorities_refresh (a database default, so bulk loaders
    # that insert cases in SQL need not know it).
    priority = models.IntegerField(_("priority"), default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = audited_history(table_name="collections_app_historicalcase")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_case"
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["assigned_to", "status", "next_action_on"]),
            models.Index(fields=["status", "max_days_past_due"]),
            models.Index(
                fields=["assigned_to", "-priority", "-id"],
                condition=~models.Q(status="closed"),
                name="case_queue_order",
            ),
            models.Index(
                fields=["-priority", "-id"],
                condition=~models.Q(status="closed"),
                name="case_queue_order_all",
            ),
        ]
        constraints = [
            # A closed case says why; an open one has no reason to be closed.
            models.CheckConstraint(
                condition=(Q(status="closed") & ~Q(closed_reason=""))
                | (~Q(status="closed") & Q(closed_reason="")),
                name="case_closed_has_reason",
            )
        ]

    def __str__(self) -> str:
        return str(self.debtor)


class QueueWeights(models.Model):
    """How much each fact adds to a case's priority in the work queue (one row, pk=1).

    priority = days_past_due x (days past due, at most 365)
             + balance x (outstanding, in thousands)
             + promise_due_today x (a pending promise falls due today)
             + broken_promise x (number of broken promises)
             + callback_due x (a callback is due today or overdue)
             + call_task_due x (a reminder's call task is due today or overdue)
             + since_contact x (days since the last contact, at most 90; never contacted: 90)
    """

    days_past_due = models.PositiveIntegerField(_("per day past due"), default=2)
    balance = models.PositiveIntegerField(_("per thousand outstanding"), default=1)
    promise_due_today = models.PositiveIntegerField(_("promise due today"), default=300)
    broken_promise = models.PositiveIntegerField(_("per broken promise"), default=40)
    callback_due = models.PositiveIntegerField(_("callback due"), default=500)
    call_task_due = models.PositiveIntegerField(_("call task due"), default=400)
    since_contact = models.PositiveIntegerField(_("per day since last contact"), default=3)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = audited_history(table_name="collections_app_historicalqueueweights")

    WEIGHT_FIELDS = (
        "days_past_due",
        "balance",
        "promise_due_today",
        "broken_promise",
        "callback_due",
        "call_task_due",
        "since_contact",
    )

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_queueweights"
        verbose_name = _("queue weights")
        verbose_name_plural = _("queue weights")

    def __str__(self) -> str:
        return gettext("Queue weights")

    @classmethod
    def current(cls) -> QueueWeights:
        weights, _created = cls.objects.get_or_create(pk=1)
        return weights


# The disposition codes shipped with the product (a data migration installs them). Their
# labels are translated at display time, so they are marked here for the catalogue.
DEFAULT_DISPOSITIONS = (
    # code, label, outcome recorded on the attempt, right-party contact
    ("no_answer", gettext_noop("No answer"), Outcome.NO_ANSWER, False),
    ("busy", gettext_noop("Line busy"), Outcome.BUSY, False),
    ("left_message", gettext_noop("Left a voicemail"), Outcome.LEFT_MESSAGE, False),
    ("promise", gettext_noop("Promise to pay"), Outcome.CONVERSATION, True),
    ("plan_agreed", gettext_noop("Repayment plan agreed"), Outcome.CONVERSATION, True),
    ("refused", gettext_noop("Refused to pay"), Outcome.CONVERSATION, True),
    ("callback_requested", gettext_noop("Asked to be called back"), Outcome.CONVERSATION, True),
    ("disputes_debt", gettext_noop("Disputes the debt"), Outcome.CONVERSATION, True),
    ("hardship", gettext_noop("Financial hardship"), Outcome.CONVERSATION, True),
    ("third_party", gettext_noop("Spoke to a third party"), Outcome.CONVERSATION, False),
    ("wrong_number", gettext_noop("Wrong number"), Outcome.WRONG_NUMBER, False),
)


def install_default_dispositions(model) -> None:
    """Create each shipped disposition code that is missing, in the shipped order. ``model``:
    ``DispositionCode``, or its historical model in a data migration."""
    for order, (code, label, outcome, rpc) in enumerate(DEFAULT_DISPOSITIONS, start=1):
        model.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "outcome": str(outcome),
                "right_party_contact": rpc,
                "sort_order": order * 10,
            },
        )


class DispositionCode(models.Model):
    """What came of a call, as the collector records it; maps to the attempt's outcome."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("label"), max_length=100)
    outcome = models.CharField(
        _("outcome recorded"),
        max_length=16,
        choices=[(v, label) for v, label in Outcome.choices if v != Outcome.PENDING],
    )
    right_party_contact = models.BooleanField(
        _("right-party contact"), default=False, help_text=_("The debtor was reached.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    history = audited_history(table_name="collections_app_historicaldispositioncode")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_dispositioncode"
        verbose_name = _("disposition code")
        verbose_name_plural = _("disposition codes")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        return gettext(self.label)


class CallDisposition(models.Model):
    """The disposition a collector gave a call (one per attempt)."""

    attempt = models.OneToOneField(
        ContactAttempt,
        on_delete=models.PROTECT,
        related_name="disposition",
        verbose_name=_("contact attempt"),
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="+", verbose_name=_("debtor")
    )
    code = models.ForeignKey(
        DispositionCode, on_delete=models.PROTECT, related_name="+", verbose_name=_("disposition")
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_calldisposition"
        verbose_name = _("call disposition")
        verbose_name_plural = _("call dispositions")
        indexes = [
            models.Index(fields=["debtor", "-recorded_at"], name="disposition_debtor_newest"),
            # Next case: what a collector worked in the last hour.
            models.Index(fields=["recorded_by", "recorded_at"], name="disposition_recorder_at"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.code_id}"


class Note(models.Model):
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="notes", verbose_name=_("debtor")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = audited_history(table_name="collections_app_historicalnote")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_note"
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        indexes = [models.Index(fields=["debtor", "-created_at"], name="note_debtor_newest")]

    def __str__(self) -> str:
        return self.body[:50]


class Callback(models.Model):
    """A call the collector promised (or was asked) to make at a given time."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="callbacks", verbose_name=_("debtor")
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="callbacks",
        verbose_name=_("collector"),
    )
    due_at = models.DateTimeField(_("due at"))
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    history = audited_history(table_name="collections_app_historicalcallback")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_callback"
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        indexes = [
            models.Index(fields=["debtor", "status", "due_at"], name="callback_debtor_open"),
            models.Index(fields=["assigned_to", "status", "due_at"], name="callback_owner_open"),
        ]

    def __str__(self) -> str:
        return f"{self.debtor_id} {self.due_at:%Y-%m-%d %H:%M}"


class RevealLog(models.Model):
    """Each time someone unmasked a national id, a phone number or a date of birth: who,
    what, when."""

    class Field(models.TextChoices):
        NATIONAL_ID = "national_id", _("National id")
        CONTACT_POINT = "contact_point", _("Contact point")
        DATE_OF_BIRTH = "date_of_birth", _("Date of birth")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.PROTECT, related_name="+", verbose_name=_("debtor")
    )
    field = models.CharField(_("field"), max_length=16, choices=Field.choices)
    contact_point = models.ForeignKey(
        ContactPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact point"),
    )
    revealed_at = models.DateTimeField(_("revealed at"), default=timezone.now)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_reveallog"
        verbose_name = _("reveal")
        verbose_name_plural = _("reveals")
        indexes = [models.Index(fields=["debtor", "-revealed_at"], name="reveal_debtor_newest")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.field} {self.debtor_id}"


class Team(models.Model):
    """Collectors led by one or more supervisors; narrows the team views and dashboards."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    leaders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="led_teams", blank=True, verbose_name=_("leaders")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("collectors")
    )

    history = audited_history(m2m_fields=[leaders, members])

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseConditions(models.Model):
    """Which cases: the debtor's country and language, the product and risk band of one of its
    open loans, and ranges of days past due and of outstanding balance. An empty condition
    matches anything (``cases.assignment.rule_condition``). Assignment rules and experiments'
    populations are written in these terms."""

    countries = ArrayField(
        models.CharField(max_length=2), blank=True, default=list, verbose_name=_("countries")
    )
    languages = ArrayField(
        models.CharField(max_length=16), blank=True, default=list, verbose_name=_("languages")
    )
    products = ArrayField(
        models.CharField(max_length=64), blank=True, default=list, verbose_name=_("products")
    )
    risk_bands = ArrayField(
        models.CharField(max_length=8, choices=Loan.RiskBand.choices),
        blank=True,
        default=list,
        verbose_name=_("risk bands"),
    )
    min_days_past_due = models.PositiveIntegerField(_("from days past due"), null=True, blank=True)
    max_days_past_due = models.PositiveIntegerField(_("to days past due"), null=True, blank=True)
    min_outstanding = models.DecimalField(
        _("from outstanding"), max_digits=19, decimal_places=4, null=True, blank=True
    )
    max_outstanding = models.DecimalField(
        _("to outstanding"), max_digits=19, decimal_places=4, null=True, blank=True
    )

    class Meta:
        abstract = True


class AssignmentRule(CaseConditions):
    """Who gets a new case: the first active rule (lowest ``order``) whose conditions the case
    meets deals it to one of its collectors. A condition left empty matches anything."""

    class Method(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin")
        LEAST_LOADED = "least_loaded", _("Least loaded (fewest cases not closed)")

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    collectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="assignment_rules", verbose_name=_("collectors")
    )
    method = models.CharField(
        _("method"), max_length=16, choices=Method.choices, default=Method.ROUND_ROBIN
    )
    # Round robin's place: how many cases the rule has dealt (the next goes to the pool's
    # collector at this position, modulo the pool's size).
    dealt = models.PositiveBigIntegerField(_("cases dealt"), default=0, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = audited_history(m2m_fields=[collectors], excluded_fields=["dealt"])

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class LoginUnlock(models.Model):
    """A supervisor lifted a sign-in lockout (too many failed passwords): whom, from which
    address, who lifted it and when."""

    username = models.CharField(_("username"), max_length=255)
    ip_address = models.CharField(_("address"), max_length=64, blank=True)
    failures = models.PositiveIntegerField(_("failures"))
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unlocked by"),
    )
    unlocked_at = models.DateTimeField(_("unlocked at"), default=timezone.now)

    class Meta:
        verbose_name = _("sign-in unlock")
        verbose_name_plural = _("sign-in unlocks")

    def __str__(self) -> str:
        return f"{self.username} {self.unlocked_at:%Y-%m-%d %H:%M}"
