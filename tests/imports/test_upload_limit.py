"""One size limit for every import (``IMPORT_MAX_UPLOAD_MB``), checked by the service: the page
and the command refuse a larger file naming the limit, and store nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from imports.models import ImportJob
from imports.services import import_create

pytestmark = pytest.mark.django_db

HEADER = b"external_ref,full_name,country,mobile\n"


def _sized(size: int) -> bytes:
    return HEADER + b"#" * (size - len(HEADER))


def _stored(settings) -> list:
    return (
        [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
        if (settings.MEDIA_ROOT.exists())
        else []
    )


def test_the_service_refuses_a_file_over_the_limit_and_stores_nothing(settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    with pytest.raises(ValidationError) as refused:
        import_create(
            actor="tests", kind="debtors", file=io.BytesIO(_sized(2**20 + 1)), name="d.csv"
        )
    assert refused.value.message_dict == {"file": ["The file is larger than 1 MB."]}
    assert not ImportJob.objects.exists() and _stored(settings) == []
    job = import_create(actor="tests", kind="debtors", file=io.BytesIO(_sized(2**20)), name="d.csv")
    assert job.file.size == 2**20


def test_the_page_refuses_a_file_over_the_limit_naming_it(client, supervisor, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    client.force_login(supervisor)
    response = client.post(
        "/imports/", {"kind": "debtors", "file": SimpleUploadedFile("d.csv", _sized(2**20 + 1))}
    )
    assert response.status_code == 200
    assert "The file is larger than 1 MB." in response.content.decode()
    assert not ImportJob.objects.exists() and _stored(settings) == []


def test_the_command_refuses_a_file_over_the_limit(settings, tmp_path):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    path = tmp_path / "big.csv"
    path.write_bytes(_sized(2**20 + 1))
    with pytest.raises(CommandError, match="larger than 1 MB"):
        call_command("import_portfolio", str(path), "--kind", "debtors", "--no-progress")
    assert not ImportJob.objects.exists()
