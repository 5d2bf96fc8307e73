"""The upload page, the progress partial and the result page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from debtors.models import Debtor
from imports.models import ImportJob
from imports.services import import_run

pytestmark = pytest.mark.django_db

DEBTORS = b"external_ref,full_name,country,mobile\nD-1,Wang Fang,CN,13800138000\nD-2,Li,CN,123\n"


def test_a_supervisor_uploads_and_follows_the_job(
    client, supervisor, django_capture_on_commit_callbacks, monkeypatch
):
    client.force_login(supervisor)
    started = []
    monkeypatch.setattr("imports.tasks.run_import.delay", lambda job_id: started.append(job_id))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/imports/",
            {
                "kind": "debtors",
                "file": SimpleUploadedFile("d.csv", DEBTORS),
                "valid_rows_only": "on",
            },
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{job.pk}/"
    assert started == [job.pk]

    progress = client.get(f"/imports/{job.pk}/progress/")
    assert b'hx-trigger="every 1s"' in progress.content
    assert "HX-Refresh" not in progress

    import_run(job_id=job.pk)
    assert client.get(f"/imports/{job.pk}/progress/")["HX-Refresh"] == "true"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "123 is not a valid phone number for the country." in page
    assert Debtor.objects.count() == 1
    rejected = client.get(f"/imports/{job.pk}/rejected.csv")
    assert b"D-2" in b"".join(rejected.streaming_content)


def test_collectors_may_not_import(client, collector):
    client.force_login(collector)
    assert client.get("/imports/").status_code == 403


def test_a_wrong_file_type_is_named(client, supervisor):
    client.force_login(supervisor)
    response = client.post(
        "/imports/", {"kind": "debtors", "file": SimpleUploadedFile("d.pdf", b"%PDF")}
    )
    assert response.status_code == 200
    assert "Upload a .csv or .xlsx file." in response.content.decode()
    assert not ImportJob.objects.exists()
