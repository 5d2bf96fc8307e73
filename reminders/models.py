"""Staged reminders: strategies and their stages, and the reminder outbox.

The messages themselves (templates, the in-app inbox, letters) are ``messaging``'s.

* ``ReminderStrategy``: a ladder of ``ReminderStage`` rows relative to an installment's due
  date. Loans are assigned a strategy by their risk band (``risk_bands``); a loan whose band no
  strategy claims gets the default one.
* ``Reminder``: the outbox row. The planner inserts one per (loan, installment, stage) and
  the dispatcher walks it through a status machine::

      planned -> sending -> sent | failed | unknown
      planned -> closed   (blocked by a hold, paid, no contact point, expired)
      planned -> queued   (a call task put in a collector's queue)
      sending -> planned  (a temporary error: retried at ``not_before``)

  A row is marked ``sending`` and committed before the provider is called, so a crash leaves
  a visible ``sending`` row that is resolved, never re-sent blindly.
* ``ReminderRun``: one planner or dispatcher pass, with its counts by outcome.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debtors.audit import audited_history
from debtors.models import Debtor, Installment, Loan, PlanInstallment
from messaging.models import MessageChannel
from reminders.defaults import shipped_name

# How a stage reaches the debtor: a message channel, or a call task, which sends nothing and
# queues the case for its collector.
StageChannel = models.TextChoices(
    "StageChannel",
    [(channel.name, (channel.value, channel.label)) for channel in MessageChannel]
    + [("CALL_TASK", ("call_task", _("Call task for a collector")))],
    module=__name__,
)


class ReminderStrategy(models.Model):
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    risk_bands = models.JSONField(
        _("risk bands"),
        default=list,
        blank=True,
        help_text=_("Loans of these risk bands (low, medium, high) follow this strategy."),
    )
    is_default = models.BooleanField(
        _("default"),
        default=False,
        help_text=_("Followed by loans whose risk band no other strategy claims."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = audited_history(table_name="collections_app_historicalreminderstrategy")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_reminderstrategy"
        verbose_name = _("reminder strategy")
        verbose_name_plural = _("reminder strategies")
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True, is_active=True),
                name="strategy_one_default",
            )
        ]

    def __str__(self) -> str:
        # A shipped strategy's name in the viewer's language (``reminders.defaults``).
        return shipped_name(self.name)

    def clean(self):
        bands = self.risk_bands
        if not isinstance(bands, list) or any(b not in Loan.RiskBand.values for b in bands):
            raise ValidationError(
                {"risk_bands": _("Risk bands must be a list of: low, medium, high.")}
            )
        others = ReminderStrategy.objects.filter(is_active=True).exclude(pk=self.pk)
        for other in others:
            shared = set(other.risk_bands or []) & set(bands)
            if shared and self.is_active:
                raise ValidationError(
                    {
                        "risk_bands": _("Risk band %(band)s is already claimed by %(other)s.")
                        % {"band": ", ".join(sorted(shared)), "other": other}
                    }
                )


class ReminderStage(models.Model):
    strategy = models.ForeignKey(
        ReminderStrategy,
        on_delete=models.CASCADE,
        related_name="stages",
        verbose_name=_("strategy"),
    )
    name = models.CharField(_("name"), max_length=200)
    offset_days = models.IntegerField(
        _("offset in days"),
        help_text=_("Days after the installment's due date (negative: before it)."),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=StageChannel.choices)
    template_key = models.SlugField(
        _("template"),
        max_length=64,
        blank=True,
        help_text=_("The key of the message templates used (not needed for a call task)."),
    )
    # Optional conditions; empty means "any".
    risk_bands = models.JSONField(_("only risk bands"), default=list, blank=True)
    products = models.JSONField(_("only products"), default=list, blank=True)
    min_balance = models.DecimalField(
        _("minimum balance"), max_digits=19, decimal_places=4, null=True, blank=True
    )
    max_balance = models.DecimalField(
        _("maximum balance"), max_digits=19, decimal_places=4, null=True, blank=True
    )
    has_active_plan = models.BooleanField(
        _("has an active plan"),
        null=True,
        blank=True,
        help_text=_(
            "Yes: only loans in a repayment plan (the plan's installments); no: only loans "
            "without one; empty: both."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = audited_history(table_name="collections_app_historicalreminderstage")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_reminderstage"
        verbose_name = _("reminder stage")
        verbose_name_plural = _("reminder stages")
        ordering = ["strategy", "offset_days", "id"]

    def __str__(self) -> str:
        sign = "+" if self.offset_days >= 0 else "−"
        # A shipped stage's name in the viewer's language (``reminders.defaults``).
        name = shipped_name(self.name)
        return f"T{sign}{abs(self.offset_days)} {self.get_channel_display()}: {name}"

    @property
    def label(self) -> str:
        sign = "+" if self.offset_days >= 0 else "−"
        return f"T{sign}{abs(self.offset_days)}"

    def clean(self):
        if self.channel != StageChannel.CALL_TASK and not self.template_key:
            raise ValidationError({"template_key": _("A stage that sends needs a template.")})
        for name in ("risk_bands", "products"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError({name: _("Must be a list of names.")})
        if any(b not in Loan.RiskBand.values for b in self.risk_bands):
            raise ValidationError({"risk_bands": _("Unknown risk band.")})
        if (
            self.min_balance is not None
            and self.max_balance is not None
            and self.min_balance > self.max_balance
        ):
            raise ValidationError({"max_balance": _("The maximum is below the minimum.")})


class ReminderStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    QUEUED = "queued", _("Queued for a collector")
    CLOSED = "closed", _("Closed without sending")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")


class Reminder(models.Model):
    """One reminder to send (or call task to queue): the outbox row of the dispatcher."""

    FINAL_STATUSES = (
        ReminderStatus.SENT,
        ReminderStatus.QUEUED,
        ReminderStatus.CLOSED,
        ReminderStatus.FAILED,
        ReminderStatus.UNKNOWN,
    )

    # The planner inserts rows by the hundred thousand, so this table carries only what its
    # queries need. Foreign-key indexes: loans and debtors are reached through the composite
    # indexes below, stages and attempts never through this table. Foreign-key constraints:
    # none in the database (``db_constraint=False``). The planner takes every id from a join
    # of existing rows in the same statement, and deletions go through Django, which applies
    # CASCADE and PROTECT itself; the per-row checks would cost three times the insert.
    loan = models.ForeignKey(
        Loan,
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("loan"),
        db_index=False,
        db_constraint=False,
    )
    installment = models.ForeignKey(
        Installment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("installment"),
        db_constraint=False,
    )
    plan_installment = models.ForeignKey(
        PlanInstallment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("plan installment"),
        db_constraint=False,
    )
    stage = models.ForeignKey(
        ReminderStage,
        on_delete=models.PROTECT,
        related_name="reminders",
        verbose_name=_("stage"),
        db_index=False,
        db_constraint=False,
    )
    debtor = models.ForeignKey(
        Debtor,
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("debtor"),
        db_index=False,
        db_constraint=False,
    )
    channel = models.CharField(_("channel"), max_length=16, choices=StageChannel.choices)
    due_date = models.DateField(_("installment due date"))
    scheduled_for = models.DateField(_("scheduled for"))
    not_before = models.DateTimeField(_("not before"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReminderStatus.choices,
        default=ReminderStatus.PLANNED,
    )
    reason = models.CharField(
        _("reason"),
        max_length=64,
        blank=True,
        help_text=_("Why it waits or was closed: a gate reason code or a reminder reason."),
    )
    tries = models.PositiveIntegerField(_("tries"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    contact_attempt = models.ForeignKey(
        "compliance.ContactAttempt",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact attempt"),
        db_index=False,
        db_constraint=False,
    )
    provider_ref = models.CharField(_("provider reference"), max_length=200, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_reminder"
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "installment", "stage"],
                condition=Q(installment__isnull=False),
                name="reminder_unique_installment_stage",
            ),
            models.UniqueConstraint(
                fields=["loan", "plan_installment", "stage"],
                condition=Q(plan_installment__isnull=False),
                name="reminder_unique_plan_installment_stage",
            ),
            models.CheckConstraint(
                condition=Q(installment__isnull=False, plan_installment__isnull=True)
                | Q(installment__isnull=True, plan_installment__isnull=False),
                name="reminder_one_installment",
            ),
        ]
        indexes = [
            # The dispatcher's claim: due rows in order.
            models.Index(
                fields=["not_before", "id"],
                condition=Q(status="planned"),
                name="reminder_due",
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="reminder_sending"
            ),
            models.Index(fields=["scheduled_for", "status"], name="reminder_day_status"),
            models.Index(fields=["debtor", "-created_at"], name="reminder_debtor_newest"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.channel} {self.status} ({self.scheduled_for})"

    @property
    def idempotency_key(self) -> str:
        """The key the providers see: one reminder is one message, however often it is tried."""
        return f"reminder-{self.pk}"

    @property
    def actor(self) -> str:
        """The system actor the gate records; it also finds this reminder's permit after a crash."""
        return f"system: reminder #{self.pk}"


class ReminderRun(models.Model):
    class Kind(models.TextChoices):
        PLAN = "plan", _("Planner")
        DISPATCH = "dispatch", _("Dispatcher")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    as_of = models.DateTimeField(_("as of"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_reminderrun"
        verbose_name = _("reminder run")
        verbose_name_plural = _("reminder runs")
        indexes = [models.Index(fields=["-started_at"], name="reminder_run_newest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.as_of:%Y-%m-%d %H:%M}"
