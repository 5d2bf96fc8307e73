"""Portfolio imports: one row per uploaded file, its problems, and the rows it rejected.

The work itself is done by ``imports.services``; these rows are what a person
sees of it (the progress bar, the report) and what a rejected-rows download is built from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debtors.files import RandomName
from imports.formats import ImportKind
from imports.messages import issue_message


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        CHECKED = "checked", _("Checked (dry run, nothing written)")
        REJECTED = "rejected", _("Rejected: the file has bad rows, nothing was imported")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    FINAL_STATUSES = (Status.CHECKED, Status.REJECTED, Status.DONE, Status.FAILED)

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    # Stored under a random name (``debtors.files``); the uploaded name is ``original_name``.
    file = models.FileField(_("file"), upload_to=RandomName("imports"), max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    dry_run = models.BooleanField(_("dry run"), default=False)
    valid_rows_only = models.BooleanField(
        _("import the valid rows"),
        default=False,
        help_text=_("Import the rows without problems even when other rows have some."),
    )
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    phase = models.CharField(_("phase"), max_length=32, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    invalid_rows = models.PositiveIntegerField(_("rows with problems"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_importjob"
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["-created_at"], name="import_newest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def valid_rows(self) -> int:
        return max(0, self.total_rows - self.invalid_rows)


class ImportIssue(models.Model):
    """One problem of one row (line 1 is the header). The message is rendered in the reader's
    language from ``code`` and ``params`` (see ``imports.messages``)."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="issues", verbose_name=_("import")
    )
    line = models.PositiveBigIntegerField(_("line"))
    column = models.CharField(_("column"), max_length=64, blank=True)
    code = models.CharField(_("code"), max_length=32)
    value = models.TextField(_("value"), blank=True)
    params = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_importissue"
        verbose_name = _("import problem")
        verbose_name_plural = _("import problems")
        indexes = [models.Index(fields=["job", "line"], name="importissue_job_line")]

    def __str__(self) -> str:
        return f"{self.job_id} line {self.line} {self.column}: {self.code}"

    @property
    def message(self) -> str:
        return issue_message(self)


class ImportRejectedRow(models.Model):
    """A row left out of an import, as it was in the file, to be fixed and imported again."""

    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="rejected_rows",
        verbose_name=_("import"),
    )
    line = models.PositiveBigIntegerField(_("line"))
    data = models.JSONField(_("row"))

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_importrejectedrow"
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        constraints = [
            models.UniqueConstraint(fields=["job", "line"], name="rejectedrow_unique_line")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} line {self.line}"
