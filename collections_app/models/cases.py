"""The collections workflow: cases and, later, work queues, strategies and reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debtors.audit import audited_history
from debtors.models import Debtor


class Case(models.Model):
    """One debtor's collection work, assigned to one collector at a time."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PLAN = "in_plan", _("In plan")
        ON_HOLD = "on_hold", _("On hold")
        CLOSED = "closed", _("Closed")

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
    next_action_on = models.DateField(_("next action on"), null=True, blank=True)
    # Priority inputs; the work queue combines them with weights the admins tune.
    max_days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    total_outstanding = models.DecimalField(
        _("total outstanding"), max_digits=19, decimal_places=4, default=0
    )
    broken_promises = models.PositiveIntegerField(_("broken promises"), default=0)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    # The work queue's order: derived from the inputs above and QueueWeights by
    # collections_app.services.case_priorities_refresh (a database default, so bulk loaders
    # that insert cases in SQL need not know it).
    priority = models.IntegerField(_("priority"), default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = audited_history()

    class Meta:
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

    def __str__(self) -> str:
        return str(self.debtor)
