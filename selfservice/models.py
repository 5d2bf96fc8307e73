"""The debtor self-service portal: its limits, the links debtors opened, what they did there.

The link itself is stateless (a signed token, see ``messaging.templating``);
a ``PortalLink`` row is written the first time a token is opened, so that it can be revoked.
Identity attempts are counted per debtor, whichever link they come through
(``PortalIdentityLock``). Writes go through ``selfservice.services``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from debtors.audit import audited_history
from debtors.files import extension_for, stored_name
from debtors.models import Debtor, Loan, RepaymentPlan, money_field


class PortalSettings(models.Model):
    """The limits of what a debtor may do alone on the portal (one row, pk=1, edited in admin)."""

    link_days = models.PositiveIntegerField(
        _("link valid for (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    promise_max_days = models.PositiveIntegerField(
        _("latest promise date (days from today)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    plan_max_installments = models.PositiveIntegerField(
        _("most installments in a plan"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    plan_min_installment = money_field(
        _("smallest installment"),
        default=Decimal("50"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("In the loan's currency."),
    )
    plan_max_days = models.PositiveIntegerField(
        _("longest plan (days from today to the last installment)"),
        default=365,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    plan_first_max_days = models.PositiveIntegerField(
        _("latest first installment (days from today)"),
        default=30,
        validators=[MinValueValidator(0), MaxValueValidator(365)],
    )
    identity_attempts = models.PositiveIntegerField(
        _("identity attempts before the debtor's links lock"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    lock_minutes = models.PositiveIntegerField(
        _("lock duration (minutes)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    session_minutes = models.PositiveIntegerField(
        _("portal session (minutes of inactivity)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = audited_history(table_name="collections_app_historicalportalsettings")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_portalsettings"
        verbose_name = _("portal settings")
        verbose_name_plural = _("portal settings")

    def __str__(self) -> str:
        return gettext("Portal settings")

    @classmethod
    def current(cls) -> PortalSettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class PortalLink(models.Model):
    """A self-service link that was opened at least once (stored by the SHA-256 of its token;
    the token itself is never stored)."""

    token_digest = models.CharField(_("token digest"), max_length=64, unique=True)
    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="portal_links", verbose_name=_("debtor")
    )
    loan = models.ForeignKey(
        Loan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("loan"),
    )
    # The token's date (the signing server's clock): the link works from it until it expires.
    issued_at = models.DateTimeField(_("issued at"))
    # The token's issue instant by the database's clock, what revocations are compared with
    # (``selfservice.links``); empty for a token made before tokens carried it.
    issued_db_at = models.DateTimeField(_("issued at (database clock)"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    first_opened_at = models.DateTimeField(_("first opened at"), default=timezone.now)
    last_opened_at = models.DateTimeField(_("last opened at"), default=timezone.now)
    verified_at = models.DateTimeField(_("identity confirmed at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.CharField(_("revoked by"), max_length=150, blank=True)

    history = audited_history(table_name="collections_app_historicalportallink")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_portallink"
        verbose_name = _("portal link")
        verbose_name_plural = _("portal links")
        indexes = [models.Index(fields=["debtor", "-last_opened_at"], name="portal_link_debtor")]

    def __str__(self) -> str:
        return f"{self.debtor_id} {self.token_digest[:10]}"

    def is_locked(self, now: dt.datetime) -> bool:
        """Whether the debtor's identity lock is on (it covers every link of the debtor)."""
        lock = PortalIdentityLock.objects.filter(debtor_id=self.debtor_id).first()
        return lock is not None and lock.is_locked(now)


class PortalIdentityLock(models.Model):
    """The identity check of one debtor, across all of their links: the wrong answers since the
    last right one or the last lock, and the lock that too many of them start.

    While ``locked_until`` is ahead, every link of the debtor is locked, one first opened after
    the lock began too. Written by ``selfservice.services.identity_verify`` only, under a lock
    on this row.
    """

    debtor = models.OneToOneField(
        Debtor,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="portal_identity_lock",
        verbose_name=_("debtor"),
    )
    failed_attempts = models.PositiveIntegerField(_("failed identity attempts"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal identity lock")
        verbose_name_plural = _("portal identity locks")

    def __str__(self) -> str:
        return f"{self.debtor_id}"

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


class PortalEvent(models.Model):
    """One thing that happened on the portal, for the case timeline and the audit history."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Portal link opened")
        VERIFIED = "verified", _("Identity confirmed on the portal")
        VERIFY_FAILED = "verify_failed", _("Identity not confirmed on the portal")
        LOCKED = "locked", _("Portal link locked after failed identity attempts")
        PROMISE = "promise", _("Promise to pay made on the portal")
        PLAN_ACCEPTED = "plan_accepted", _("Repayment plan set up on the portal")
        PLAN_REVIEW = "plan_review", _("Repayment plan proposed on the portal, for review")
        PLAN_APPROVED = "plan_approved", _("Plan proposed on the portal approved")
        PLAN_DECLINED = "plan_declined", _("Plan proposed on the portal declined")
        CONTACT = "contact", _("Contact choices changed on the portal")
        CEASE = "cease", _("Asked on the portal to stop all contact")
        DISPUTE = "dispute", _("Dispute raised on the portal")
        FEEDBACK = "feedback", _("Portal experience rated")
        REVOKED = "revoked", _("Portal links revoked")

    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="portal_events", verbose_name=_("debtor")
    )
    link = models.ForeignKey(
        PortalLink,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("link"),
    )
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    detail = models.TextField(_("detail"), blank=True)
    actor_label = models.CharField(_("actor"), max_length=150)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    # A revocation's instant by the database's clock, compared with the links' own
    # (``PortalLink.issued_db_at``); empty for other events and older revocations.
    recorded_db_at = models.DateTimeField(_("at (database clock)"), null=True, blank=True)

    history = audited_history(table_name="collections_app_historicalportalevent")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_portalevent"
        verbose_name = _("portal event")
        verbose_name_plural = _("portal events")
        indexes = [
            models.Index(fields=["debtor", "-created_at"], name="portal_event_debtor"),
            models.Index(fields=["kind", "created_at"], name="portal_event_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.debtor_id} {self.kind}"


# The limits a proposal can go beyond (``PortalPlanRequest.outside_limits``), in English; the
# portal's event detail stores them as they are, the staff's pages show them translated.
LIMIT_LABELS = {
    "installments": gettext_noop("too many installments"),
    "minimum": gettext_noop("installment below the minimum"),
    "length": gettext_noop("longer than allowed"),
    "first_date": gettext_noop("first installment too late"),
}


class PortalPlanRequest(models.Model):
    """A plan the debtor proposed on the portal: accepted at once inside the limits, otherwise
    left as a proposed plan for a collector or supervisor to approve or decline."""

    plan = models.OneToOneField(
        RepaymentPlan,
        on_delete=models.CASCADE,
        related_name="portal_request",
        verbose_name=_("plan"),
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="+", verbose_name=_("debtor")
    )
    within_limits = models.BooleanField(_("within the limits"))
    outside_limits = models.JSONField(_("limits exceeded"), default=list, blank=True)
    note = models.TextField(_("debtor's note"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=150, blank=True)

    history = audited_history(table_name="collections_app_historicalportalplanrequest")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_portalplanrequest"
        verbose_name = _("plan proposed on the portal")
        verbose_name_plural = _("plans proposed on the portal")

    def __str__(self) -> str:
        return f"{self.plan_id}"

    @property
    def outside_limit_labels(self) -> list[str]:
        """The limits this proposal goes beyond, in the current language."""
        return [gettext(LIMIT_LABELS[key]) for key in self.outside_limits if key in LIMIT_LABELS]


def dispute_upload_to(instance, filename: str) -> str:
    """A random path, its extension from the type judged by the content (``document_type``);
    the debtor's file name is kept in ``document_name``, never on disk."""
    return stored_name("disputes", extension_for(instance.document_type))


class PortalDispute(models.Model):
    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="portal_disputes", verbose_name=_("debtor")
    )
    link = models.ForeignKey(
        PortalLink, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("link")
    )
    reason = models.TextField(_("reason"))
    document = models.FileField(_("document"), upload_to=dispute_upload_to, blank=True)
    document_name = models.CharField(_("document name"), max_length=200, blank=True)
    document_type = models.CharField(_("document type"), max_length=32, blank=True)
    document_size = models.PositiveIntegerField(_("document size"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = audited_history(table_name="collections_app_historicalportaldispute")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_portaldispute"
        verbose_name = _("dispute raised on the portal")
        verbose_name_plural = _("disputes raised on the portal")

    def __str__(self) -> str:
        return f"{self.debtor_id} {self.created_at:%Y-%m-%d}"


class PortalFeedback(models.Model):
    """How the debtor rated the portal after using it: 1 (poor) to 5 (very good)."""

    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="+", verbose_name=_("debtor")
    )
    link = models.OneToOneField(
        PortalLink, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("link")
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_portalfeedback"
        verbose_name = _("portal rating")
        verbose_name_plural = _("portal ratings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1) & models.Q(score__lte=5),
                name="portal_feedback_score_1_to_5",
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="portal_feedback_created")]

    def __str__(self) -> str:
        return f"{self.debtor_id} {self.score}"
