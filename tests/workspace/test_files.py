"""Stored files on the staff's side: each kind through its own view, in the viewer's scope;
random names on disk; no media route, DEBUG or not."""

from __future__ import annotations

import importlib
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import clear_url_caches

from imports.models import ImportJob
from messaging.models import PrintJob
from selfservice.models import PortalDispute
from tests.factories import make_case, make_debtor

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CSV = b"external_ref,full_name,country,mobile\nD-1,Wang Fang,CN,13800138000\n"
RANDOM = r"\d{4}/\d{2}/[0-9a-f]{32}"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _refused(response) -> bool:
    """Not the file: a 403/404, or (signed out) the way to the login page."""
    if response.status_code == 302:
        return response["Location"].startswith("/accounts/login/")
    return response.status_code in (403, 404)


@pytest.fixture
def letter(collector):
    debtor = make_debtor(full_name="Letter Debtor")
    make_case(debtor, collector)
    job = PrintJob(debtor=debtor, idempotency_key="reminder-77-letter", address="1 Road")
    job.pdf.save("reminder-77-letter.pdf", ContentFile(PDF), save=False)
    job.save()
    return job


@pytest.fixture
def dispute(collector):
    debtor = make_debtor(full_name="Disputing Debtor")
    make_case(debtor, collector)
    dispute = PortalDispute(
        debtor=debtor,
        reason="Not mine",
        document_type="image/png",
        document_size=len(PNG),
        document_name="my passport scan.png",
    )
    dispute.document.save("my passport scan.png", ContentFile(PNG), save=False)
    dispute.save()
    return dispute


def _upload(client, name: str):
    return client.post("/imports/", {"kind": "debtors", "file": SimpleUploadedFile(name, CSV)})


# --- Letters --------------------------------------------------------------------------------


def test_a_letter_goes_to_its_collector_and_supervisors_only(
    letter, collector, other_collector, supervisor
):
    url = f"/letters/{letter.pk}/pdf/"
    for client in (_client(collector), _client(supervisor)):
        response = client.get(url)
        assert response.status_code == 200 and _body(response) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"] == f'attachment; filename="letter-{letter.pk}.pdf"'
    assert _client(other_collector).get(url).status_code == 404
    assert _refused(_client().get(url))
    assert _client(supervisor).get(f"/letters/{letter.pk + 1000}/pdf/").status_code == 404


def test_a_letter_is_stored_under_a_random_name(letter):
    assert re.fullmatch(rf"letters/{RANDOM}\.pdf", letter.pdf.name)
    assert "reminder" not in letter.pdf.name


def test_a_letter_missing_on_disk_is_404_not_500(letter, supervisor):
    letter.pdf.storage.delete(letter.pdf.name)
    assert _client(supervisor).get(f"/letters/{letter.pk}/pdf/").status_code == 404


def test_the_admin_links_the_letter_to_its_page_not_to_media(letter, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client = _client(admin_user)
    listing = client.get("/admin/messaging/printjob/").content.decode()
    change = client.get(f"/admin/messaging/printjob/{letter.pk}/change/").content.decode()
    for page in (listing, change):
        assert f"/letters/{letter.pk}/pdf/" in page
        assert "/media/" not in page and letter.pdf.name not in page


# --- Import files ---------------------------------------------------------------------------


def test_an_import_file_is_stored_under_a_random_name_and_kept_for_supervisors(
    supervisor, collector
):
    staff = _client(supervisor)
    assert _upload(staff, "ACME secret portfolio.csv").status_code == 302
    job = ImportJob.objects.get()
    assert job.original_name == "ACME secret portfolio.csv"
    assert re.fullmatch(rf"imports/{RANDOM}\.csv", job.file.name)
    assert not {"ACME", "secret", "portfolio"} & set(re.split(r"[/ ._]", job.file.name))

    page = staff.get(f"/imports/{job.pk}/").content.decode()
    assert f"/imports/{job.pk}/file/" in page and job.file.name not in page
    response = staff.get(f"/imports/{job.pk}/file/")
    assert response.status_code == 200 and _body(response) == CSV
    assert response["Content-Type"] == "text/csv"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}.csv"'
    assert _client(collector).get(f"/imports/{job.pk}/file/").status_code == 403
    assert _refused(_client().get(f"/imports/{job.pk}/file/"))


def test_an_unknown_extension_is_not_kept_and_is_served_as_bytes(supervisor, media):
    staff = _client(supervisor)
    job = ImportJob.objects.create(kind="debtors", original_name="x.csv")
    job.file.save("evil.html", ContentFile(b"<script>alert(1)</script>"), save=True)
    assert re.fullmatch(rf"imports/{RANDOM}", job.file.name)
    response = staff.get(f"/imports/{job.pk}/file/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_import_of_an_older_row_with_its_name_on_disk_is_still_served(supervisor, media):
    """Rows stored before random names keep working: the path is whatever the row holds."""
    (media / "imports" / "2025" / "01" / "02").mkdir(parents=True)
    (media / "imports" / "2025" / "01" / "02" / "old book.csv").write_bytes(CSV)
    job = ImportJob.objects.create(
        kind="debtors", original_name="old book.csv", file="imports/2025/01/02/old book.csv"
    )
    response = _client(supervisor).get(f"/imports/{job.pk}/file/")
    assert response.status_code == 200 and _body(response) == CSV


def test_an_import_file_missing_or_absent_is_404(supervisor):
    staff = _client(supervisor)
    _upload(staff, "d.csv")
    job = ImportJob.objects.get()
    job.file.storage.delete(job.file.name)
    assert staff.get(f"/imports/{job.pk}/file/").status_code == 404
    ImportJob.objects.filter(pk=job.pk).update(file="")
    assert staff.get(f"/imports/{job.pk}/file/").status_code == 404
    ImportJob.objects.filter(pk=job.pk).update(file="../../etc/passwd")
    assert staff.get(f"/imports/{job.pk}/file/").status_code == 404
    assert staff.get("/imports/999999/file/").status_code == 404


# --- Dispute documents (the staff's side) ---------------------------------------------------


def test_a_dispute_document_goes_to_staff_in_scope_only(
    dispute, collector, other_collector, supervisor
):
    assert re.fullmatch(rf"disputes/{RANDOM}\.png", dispute.document.name)
    assert "passport" not in dispute.document.name
    url = f"/portal/disputes/{dispute.pk}/document/"
    for client in (_client(collector), _client(supervisor)):
        response = client.get(url)
        assert response.status_code == 200 and _body(response) == PNG
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment")
    assert _client(other_collector).get(url).status_code == 404
    assert _refused(_client().get(url))


def test_a_dispute_document_missing_on_disk_is_404(dispute, supervisor):
    dispute.document.storage.delete(dispute.document.name)
    url = f"/portal/disputes/{dispute.pk}/document/"
    assert _client(supervisor).get(url).status_code == 404


# --- No media route -------------------------------------------------------------------------


@pytest.fixture
def debug_urls(settings):
    """The project's URLs as they are built with DEBUG on (the module reads it at import)."""
    urls = importlib.import_module("collections_app.urls")
    settings.DEBUG = True
    importlib.reload(urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(urls)
    clear_url_caches()


def test_with_debug_on_the_media_url_serves_nothing(debug_urls, letter, dispute, supervisor):
    staff = _client(supervisor)
    for stored in (letter.pdf, dispute.document):
        assert stored.storage.exists(stored.name)
        assert staff.get(f"/media/{stored.name}").status_code == 404
        assert Client().get(f"/media/{stored.name}").status_code == 404
    # The checked view still serves it.
    assert staff.get(f"/letters/{letter.pk}/pdf/").status_code == 200
