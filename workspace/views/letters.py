"""Letters rendered for the print room (``messaging.PrintJob``): their PDF, to the staff who
may see the debtor (``cases.access``: the case's collector, supervisors and admins), 404 to
anyone else."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from cases.access import get_debtor_for_user
from debtors.files import file_response
from messaging.models import PrintJob


@login_required
@require_GET
def letter_pdf(request: HttpRequest, print_job_id: int) -> HttpResponse:
    job = get_object_or_404(PrintJob, pk=print_job_id)
    get_debtor_for_user(request.user, job.debtor_id)
    return file_response(job.pdf, download_name=f"letter-{job.pk}")
