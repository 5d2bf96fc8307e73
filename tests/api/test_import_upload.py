"""``POST /api/v1/imports/``: the upload page's size limit (``IMPORT_MAX_UPLOAD_MB``), the same
check; the file is stored under a random name, the uploaded name kept for display only."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.models import ImportJob

pytestmark = pytest.mark.django_db

HEADER = b"external_ref,full_name,country,mobile\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    monkeypatch.setattr("imports.tasks.run_import.delay", lambda job_id: None)


def _sized(size: int) -> bytes:
    return HEADER + b"#" * (size - len(HEADER))


def _post(client, name: str, content: bytes):
    return client.post(
        "/api/v1/imports/",
        {"kind": "debtors", "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_a_file_over_the_limit_is_refused_naming_it_and_nothing_is_stored(
    as_supervisor, settings, media
):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    response = _post(as_supervisor, "d.csv", _sized(2**20 + 1))
    assert response.status_code == 400
    assert response.json() == {"file": ["The file is larger than 1 MB."]}
    assert not ImportJob.objects.exists()
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_the_limit_is_the_setting_the_page_uses(as_supervisor, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 2
    assert _post(as_supervisor, "d.csv", _sized(2**20 + 1)).status_code == 202
    response = _post(as_supervisor, "d.csv", _sized(2 * 2**20 + 1))
    assert response.status_code == 400
    assert "2 MB" in response.json()["file"][0]


def test_an_accepted_file_has_a_random_name(as_supervisor):
    response = _post(as_supervisor, "Client X arrears.csv", _sized(200))
    assert response.status_code == 202
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert response.json()["original_name"] == "Client X arrears.csv"
    assert re.fullmatch(r"imports/\d{4}/\d{2}/[0-9a-f]{32}\.csv", job.file.name)
    assert "file" not in response.json()
