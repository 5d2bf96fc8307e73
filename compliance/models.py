"""Contact policies, contact attempts, permits and the decision ledger.

* ``ContactPolicy``: one row per version; a change creates a new row (``policy_save``) and
  decisions record the version they used.
* ``ContactAttempt``: a fact — a call placed, a message sent, a call received. A permit granted
  by the gate is an attempt with outcome ``pending`` from the moment it is granted.
* ``ContactPermit``: the single-use token a channel backend needs to send.
* ``ContactDecision``: the ledger of every ``request`` decision. Append-only (a database
  trigger refuses UPDATE and DELETE, except the sealer filling the hash columns once) and
  hash-chained by the sealer (``compliance.ledger``).
* ``DebtorContactPreference``: times a debtor said do not suit them (or suit them best).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_tz
from django.utils.translation import gettext_lazy as _

from debtors.audit import audited_history
from debtors.models import Channel, ContactPoint, Debtor, Loan
from debtors.validators import validate_country

from .rules import validate_rules

RULES_HELP = _(
    "One entry per channel (call, sms, email, in_app, letter, visit) with: hours (windows in "
    "the debtor's local time, 'from' inclusive, 'to' exclusive), no_contact_on_holidays, limits "
    "(count attempts|conversations|unanswered, max, directions, per debtor|loan|contact_point, "
    "days or hours), cooldowns (after conversation, days or hours), min_interval_minutes, "
    "consent_required, third_parties (never|after_unreachable|allowed), "
    "unreachable_after_failed, opt_out_required. The format is described in "
    "compliance/rules.py; the rules and their sources are summarised in docs/regulations.md: "
    "US Regulation F (12 CFR 1006.6, 1006.14), TCPA (47 CFR 64.1200), China GB/T 45251-2025 "
    "and the 2026 banking-association collection guideline, UK FCA CONC 7.9."
)


class ContactPolicy(models.Model):
    slug = models.SlugField(_("slug"), max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text=_("ISO 3166 alpha-2. Empty for the default policy."),
    )
    region = models.CharField(
        _("region"),
        max_length=16,
        blank=True,
        help_text=_(
            "ISO 3166-2 subdivision (e.g. US-CA) when the policy is narrower than a country."
        ),
    )
    is_default = models.BooleanField(
        _("default"), default=False, help_text=_("Applies to debtors no other policy covers.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_current = models.BooleanField(
        _("current version"), default=True, editable=False, help_text=_("The latest version.")
    )
    rules = models.JSONField(
        _("rules"), default=dict, validators=[validate_rules], help_text=RULES_HELP
    )
    source = models.TextField(
        _("source"), blank=True, help_text=_("The regulation or guideline the rules encode.")
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=django_tz.now, editable=False)
    created_by_label = models.CharField(_("created by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("contact policy")
        verbose_name_plural = _("contact policies")
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="policy_unique_version"),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(is_current=True), name="policy_one_current_version"
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True, is_current=True, is_active=True),
                name="policy_one_default",
            ),
            models.UniqueConstraint(
                fields=["country", "region"],
                condition=Q(is_current=True, is_active=True, is_default=False),
                name="policy_one_per_jurisdiction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} v{self.version}"

    def clean(self):
        if self.is_default and self.country:
            raise ValidationError({"country": _("The default policy has no country.")})
        if not self.is_default and not self.country:
            raise ValidationError(
                {"country": _("A policy other than the default needs a country.")}
            )
        if self.region and not self.region.upper().startswith(f"{self.country}-"):
            raise ValidationError(
                {"region": _("The region must be a subdivision of the country, e.g. US-CA.")}
            )


class Direction(models.TextChoices):
    OUTBOUND = "outbound", _("Outbound")
    INBOUND = "inbound", _("Inbound")


class Outcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    LEFT_MESSAGE = "left_message", _("Left a message")
    CONVERSATION = "conversation", _("Conversation")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    FAILED = "failed", _("Failed")
    # An inbound message (a debtor's SMS reply): never counted against an outbound limit.
    RECEIVED = "received", _("Received")


# Outcomes that mean the debtor was not reached (for "unanswered" limits and unreachability).
UNANSWERED_OUTCOMES = frozenset({"no_answer", "busy", "left_message", "failed"})
FAILED_OUTCOMES = frozenset({"no_answer", "busy", "failed", "wrong_number", "bounced"})


class ContactAttempt(models.Model):
    # Every insert here is on the gate's hot path: no single-column index where a composite
    # one below starts with the column, and none for references never searched by.
    debtor = models.ForeignKey(
        Debtor,
        on_delete=models.PROTECT,
        related_name="contact_attempts",
        verbose_name=_("debtor"),
        db_index=False,
    )
    loan = models.ForeignKey(
        Loan,
        on_delete=models.PROTECT,
        db_index=False,
        null=True,
        blank=True,
        related_name="contact_attempts",
        verbose_name=_("loan"),
    )
    contact_point = models.ForeignKey(
        ContactPoint,
        on_delete=models.SET_NULL,
        db_index=False,
        null=True,
        blank=True,
        related_name="contact_attempts",
        verbose_name=_("contact point"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        db_index=False,  # attempt_actor_at below starts with it
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # Written in the same statement as the decision it names, and decisions are never
    # deleted: no constraint check needed on the hot path.
    decision = models.ForeignKey(
        "ContactDecision",
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gate decision"),
        help_text=_("The decision that granted the permit for this attempt."),
    )
    breach = models.BooleanField(_("breach"), default=False)
    breach_reasons = models.JSONField(_("breach reasons"), default=list, blank=True)
    breach_policy = models.ForeignKey(
        ContactPolicy,
        on_delete=models.PROTECT,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("policy judged against"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=django_tz.now)
    completed_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        indexes = [
            # On PostgreSQL this index also carries the columns the gate reads (migration
            # 0004), so a debtor's recent history comes from the index alone.
            models.Index(
                fields=["debtor", "channel", "occurred_at"], name="attempt_debtor_channel_at"
            ),
            models.Index(fields=["loan", "channel", "occurred_at"], name="attempt_loan_channel_at"),
            models.Index(
                fields=["contact_point", "channel", "occurred_at"], name="attempt_point_channel_at"
            ),
            models.Index(fields=["debtor", "-occurred_at", "-id"], name="attempt_debtor_newest"),
            # A collector's attempts over a period (supervisors' dashboards).
            models.Index(fields=["actor_user", "occurred_at"], name="attempt_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.direction} {self.outcome} {self.occurred_at:%Y-%m-%d %H:%M}"


class ContactDecision(models.Model):
    """One ``request`` decision in the append-only, hash-chained ledger.

    The ledger keeps the ids of what it names without foreign-key constraints: it outlives
    the rows it mentions and must never be cascaded or nulled.
    """

    decided_at = models.DateTimeField(_("decided at"))
    actor_label = models.CharField(_("actor"), max_length=150)
    actor_user_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    debtor = models.ForeignKey(
        Debtor,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # decision_debtor_at starts with it
        related_name="+",
        verbose_name=_("debtor"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    loan = models.ForeignKey(
        Loan,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("loan"),
    )
    contact_point = models.ForeignKey(
        ContactPoint,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact point"),
    )
    allowed = models.BooleanField(_("allowed"))
    reasons = models.JSONField(_("reasons"), default=list)
    next_allowed_at = models.DateTimeField(_("next allowed at"), null=True, blank=True)
    timezones = models.JSONField(_("time zones"), default=list)
    # Like the ids above, kept without a database constraint: the gate writes a decision per
    # request and every one names one of a handful of policy rows, whose constraint check
    # would lock the same row for every decision. Policies are versions, never deleted
    # (PROTECT still guards the ORM).
    policy = models.ForeignKey(
        ContactPolicy,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="+",
        verbose_name=_("policy"),
    )
    policy_slug = models.CharField(_("policy"), max_length=64)
    policy_version = models.PositiveIntegerField(_("policy version"))
    # Filled once by the sealer, never on the hot path. NULL (not "") means "not sealed yet":
    # the append-only trigger allows exactly one change, from NULL to a value.
    seal_seq = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, null=True, blank=True)  # noqa: DJ001
    row_hash = models.CharField(_("hash"), max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        verbose_name = _("contact decision")
        verbose_name_plural = _("contact decisions")
        indexes = [
            models.Index(fields=["debtor", "decided_at"], name="decision_debtor_at"),
            models.Index(
                fields=["id"], condition=Q(row_hash__isnull=True), name="decision_unsealed"
            ),
        ]

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "blocked"
        return f"#{self.pk} {self.channel} {verdict}"

    # The database trigger is the real guard; these keep the ORM honest on any database.
    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The decision ledger is append-only: a decision is never saved twice.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The decision ledger is append-only: decisions are never deleted.")


class ContactPermit(models.Model):
    """A single-use permission to send, for one debtor and channel, valid for minutes.

    Only the SHA-256 of the token is stored; the token itself is given once to the caller.
    """

    token_hash = models.CharField(_("token hash"), max_length=64)
    decision = models.ForeignKey(
        ContactDecision,
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
        related_name="+",
        verbose_name=_("decision"),
    )
    # Written by the gate in the same statement as its attempt: no constraint check needed.
    attempt = models.OneToOneField(
        ContactAttempt,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="permit",
        verbose_name=_("attempt"),
    )
    debtor_id = models.BigIntegerField(_("debtor id"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    issued_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"))
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact permit")
        verbose_name_plural = _("contact permits")
        # A constraint rather than unique=True: one index, without a second one for LIKE.
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="permit_unique_token_hash")
        ]

    def __str__(self) -> str:
        return f"permit #{self.pk} {self.channel} until {self.expires_at:%Y-%m-%d %H:%M}"


class DebtorContactPreference(models.Model):
    """Times a debtor said do not suit them (the gate blocks them), or suit them best.

    ``weekdays`` lists ISO weekday numbers from 0 (Monday) to 6 (Sunday). A ``start_time``
    after the ``end_time`` spans midnight (22:00-07:00 covers the night).
    """

    class Kind(models.TextChoices):
        INCONVENIENT = "inconvenient", _("Does not suit the debtor")
        PREFERRED = "preferred", _("Preferred by the debtor")

    class Source(models.TextChoices):
        PORTAL = "portal", _("Debtor portal")
        COLLECTOR = "collector", _("Told to a collector")
        LETTER = "letter", _("In writing")
        IMPORT = "import", _("Import")

    debtor = models.ForeignKey(
        Debtor,
        on_delete=models.CASCADE,
        related_name="contact_preferences",
        verbose_name=_("debtor"),
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.INCONVENIENT
    )
    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=Channel.choices,
        blank=True,
        help_text=_("Empty: every channel."),
    )
    weekdays = models.JSONField(
        _("weekdays"),
        default=list,
        blank=True,
        help_text=_("0 = Monday ... 6 = Sunday. Empty: every day."),
    )
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=django_tz.now)

    history = audited_history()

    class Meta:
        verbose_name = _("debtor contact preference")
        verbose_name_plural = _("debtor contact preferences")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self):
        days = self.weekdays
        if not isinstance(days, list) or any(
            isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days
        ):
            raise ValidationError({"weekdays": _("Weekdays are numbers from 0 (Monday) to 6.")})
        if self.start_time == self.end_time:
            raise ValidationError({"end_time": _("The period must not be empty.")})
