"""The import pages: upload (admins and supervisors), a live progress bar, the result, the
uploaded file itself.

The import itself runs in a Celery job (``tasks.run_import``); the progress partial is polled
with htmx every second until the job is finished, then the page reloads into the report.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from debtors.files import file_response
from debtors.validators import apply_errors
from imports.models import ImportJob, ImportKind
from imports.services import import_create, imports_fail_abandoned, issues_for, rejected_rows_csv
from imports.tasks import import_enqueue
from workspace.views.common import supervisor_required


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File (CSV or XLSX, with a header row)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check the file and report, write nothing"), required=False
    )
    valid_rows_only = forms.BooleanField(
        label=_("Import the valid rows even if some rows have problems"), required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


@supervisor_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # The size limit is the service's (IMPORT_MAX_UPLOAD_MB), the API's as well.
            job = import_create(
                actor=request.user,
                kind=data["kind"],
                file=data["file"],
                name=data["file"].name,
                dry_run=data["dry_run"],
                valid_rows_only=data["valid_rows_only"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            import_enqueue(job)
            return redirect("import-detail", job_id=job.pk)
    jobs = ImportJob.objects.order_by("-created_at")[:30]
    # A job whose worker died shows as failed, not as running forever.
    if imports_fail_abandoned(
        job_ids=[job.pk for job in jobs if job.status == ImportJob.Status.RUNNING]
    ):
        jobs = ImportJob.objects.order_by("-created_at")[:30]
    return render(request, "imports/list.html", {"form": form, "jobs": jobs})


def _job_for_page(job_id: int) -> ImportJob:
    """The job, failed first if it shows as running but its worker is gone."""
    job = get_object_or_404(ImportJob, pk=job_id)
    if job.status == ImportJob.Status.RUNNING and imports_fail_abandoned(job_ids=[job.pk]):
        job.refresh_from_db()
    return job


@supervisor_required
def import_detail(request, job_id: int):
    job = _job_for_page(job_id)
    page = Paginator(issues_for(job), 200).get_page(request.GET.get("page"))
    return render(request, "imports/detail.html", {"job": job, "issues": page})


@supervisor_required
def import_progress(request, job_id: int):
    job = _job_for_page(job_id)
    response = render(request, "imports/_progress.html", {"job": job})
    if job.is_finished:
        response["HX-Refresh"] = "true"  # the result page replaces the progress bar
    return response


@supervisor_required
def import_rejected(request, job_id: int):
    job = get_object_or_404(ImportJob, pk=job_id)
    response = StreamingHttpResponse(rejected_rows_csv(job), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.csv"'
    return response


@supervisor_required
def import_file(request, job_id: int):
    """The file as it was uploaded, under a name of the job's (never the uploaded name)."""
    job = get_object_or_404(ImportJob, pk=job_id)
    return file_response(job.file, download_name=f"import-{job.pk}")
