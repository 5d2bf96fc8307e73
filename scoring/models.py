"""Score models (versions of the propensity scorecard), the cases' current scores, and what an
admin makes each score band do.

* ``ScoreModel``: one training run. Its scorecard (points per feature bin), the dates it
  learnt from and its metrics on the validation snapshot. At most one is active; activating
  one is a change with an actor in its history (the audit).
* ``CaseScore``: a case's score under the active model, written by ``score_cases`` for every
  open case at once: points, probability, band and the three reason codes.
* ``BandRule``: per band, the reminder strategy's risk band and the queue-priority weight that
  replace the imported risk label while a model is active.
* ``Experiment``, its ``Arm``s and the ``ArmAssignment`` of each case that entered it
  (``scoring.experiments``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseConditions
from debtors.audit import audited_history
from debtors.models import Loan
from scoring.scorecard import BANDS


class ScoreModel(models.Model):
    class Status(models.TextChoices):
        TRAINED = "trained", _("Trained")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    version = models.PositiveIntegerField(_("version"), unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.TRAINED
    )
    trained_at = models.DateTimeField(_("trained at"), default=timezone.now)
    trained_by = models.CharField(_("trained by"), max_length=150, blank=True)
    horizon_days = models.PositiveSmallIntegerField(_("horizon (days)"))
    train_from = models.DateField(_("first training date"))
    train_until = models.DateField(_("last training date"))
    validation_dates = models.JSONField(_("validation dates"), default=list)
    scorecard = models.JSONField(_("scorecard"))
    metrics = models.JSONField(_("metrics"), default=dict)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    history = audited_history(excluded_fields=["scorecard", "metrics"])

    class Meta:
        ordering = ("-version",)
        verbose_name = _("score model")
        verbose_name_plural = _("score models")
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="one_active_score_model",
            )
        ]
        permissions = [("activate_scoremodel", _("Can activate a score model"))]

    def __str__(self) -> str:
        return _("Score model v%(version)s") % {"version": self.version}

    @classmethod
    def active(cls) -> ScoreModel | None:
        return cls.objects.filter(status=cls.Status.ACTIVE).first()


BAND_CHOICES = [(band, band) for band, _lowest in BANDS]


class CaseScore(models.Model):
    case = models.OneToOneField(
        Case,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
        verbose_name=_("case"),
    )
    model = models.ForeignKey(
        ScoreModel, on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    points = models.IntegerField(_("score"))
    probability = models.DecimalField(_("probability of paying"), max_digits=6, decimal_places=5)
    band = models.CharField(_("band"), max_length=1, choices=BAND_CHOICES)
    # [{"feature": name, "bin": index, "points": cost}], the costliest first.
    reasons = models.JSONField(_("reasons"), default=list)
    scored_on = models.DateField(_("scored on"))

    class Meta:
        verbose_name = _("case score")
        verbose_name_plural = _("case scores")
        indexes = [models.Index(fields=["band"], name="casescore_band")]

    def __str__(self) -> str:
        return f"{self.band} ({self.points})"


class BandRule(models.Model):
    band = models.CharField(_("band"), max_length=1, choices=BAND_CHOICES, unique=True)
    reminder_band = models.CharField(
        _("reminder strategy's risk band"),
        max_length=8,
        choices=Loan.RiskBand.choices,
        help_text=_("The reminder strategy that claims this risk band works the band's loans."),
    )
    priority_weight = models.IntegerField(
        _("queue priority weight"),
        default=0,
        help_text=_("Added to the priority of the band's cases in the queue."),
    )
    history = audited_history()

    class Meta:
        ordering = ("band",)
        verbose_name = _("score band rule")
        verbose_name_plural = _("score band rules")

    def __str__(self) -> str:
        return _("Band %(band)s") % {"band": self.band}


class Experiment(CaseConditions):
    """A champion/challenger experiment: which cases (its population, in the terms of an
    assignment rule), the arms they are shared among, what decides, and when."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")

    class Metric(models.TextChoices):
        RECOVERY = "recovery", _("Recovery rate")
        CURE = "cure", _("Cure rate")
        PROMISE_KEPT = "promise_kept", _("Promise-kept rate")
        OPT_OUT = "opt_out", _("Opt-out rate")
        DISPUTE = "dispute", _("Dispute and complaint rate")
        CONTACTS = "contacts", _("Contacts per 1,000 collected")

    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    primary_metric = models.CharField(
        _("primary metric"), max_length=16, choices=Metric.choices, default=Metric.RECOVERY
    )
    starts_on = models.DateField(_("starts on"))
    planned_end_on = models.DateField(_("planned end"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    history = audited_history()

    class Meta:
        ordering = ("-id",)
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")

    def __str__(self) -> str:
        return self.name


class Arm(models.Model):
    """One way of working the experiment's cases: a reminder strategy (none for a hold-out)
    and a queue weight, for a share of the entrants."""

    class Kind(models.TextChoices):
        CHAMPION = "champion", _("Champion")
        CHALLENGER = "challenger", _("Challenger")
        HOLDOUT = "holdout", _("Hold-out (no reminders)")

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="arms", verbose_name=_("experiment")
    )
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    strategy = models.ForeignKey(
        "reminders.ReminderStrategy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reminder strategy"),
    )
    queue_weight = models.IntegerField(_("queue weight"), default=0)
    share = models.PositiveSmallIntegerField(_("share (%)"))

    history = audited_history()

    class Meta:
        ordering = ("experiment", "id")
        verbose_name = _("arm")
        verbose_name_plural = _("arms")

    def __str__(self) -> str:
        return self.name


class ArmAssignment(models.Model):
    """A case's arm, recorded when it entered the experiment and never recomputed, with what
    the metrics are measured from."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="assignments")
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="assignments")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField(_("entered at"))
    outstanding_at_entry = models.DecimalField(
        _("outstanding at entry"), max_digits=19, decimal_places=4
    )
    days_past_due_at_entry = models.PositiveIntegerField(_("days past due at entry"))

    class Meta:
        verbose_name = _("arm assignment")
        verbose_name_plural = _("arm assignments")
        constraints = [
            models.UniqueConstraint(fields=["experiment", "case"], name="one_arm_per_case")
        ]
        indexes = [models.Index(fields=["arm", "entered_at"], name="assignment_arm_entered")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.arm_id}"
