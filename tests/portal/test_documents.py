"""The debtor's own dispute documents on the portal: theirs only, through the portal's session;
stored under a random name."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from selfservice.models import PortalDispute

from .conftest import Portal, address, owing_debtor

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _dispute(portal: Portal, name: str, content: bytes) -> PortalDispute:
    response = portal.client.post(
        "/p/dispute/", {"reason": "Wrong amount", "document": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 302, response.content[:500]
    return PortalDispute.objects.filter(debtor=portal.debtor).latest("pk")


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_debtor_gets_their_own_document_and_nobody_else_does(portal, media):
    portal.signed_in()
    dispute = _dispute(portal, "Zhang Wei bank statement.pdf", PDF)
    assert dispute.document_name == "Zhang Wei bank statement.pdf"
    assert re.fullmatch(r"disputes/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", dispute.document.name)
    assert not {"Zhang", "Wei", "bank", "statement"} & set(
        re.split(r"[/ ._]", dispute.document.name)
    )

    url = f"/p/disputes/{dispute.pk}/document/"
    page = portal.client.get("/p/dispute/").content.decode()
    assert url in page and dispute.document.name not in page
    response = portal.client.get(url)
    assert response.status_code == 200 and _body(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="dispute-{dispute.pk}.pdf"'
    assert response["Cache-Control"] == "no-store"

    # Another debtor, signed in to their own portal, does not find it.
    other_debtor, other_loan = owing_debtor()
    other = Portal(other_debtor, other_loan).signed_in()
    assert other.client.get(url).status_code == 404
    mine = _dispute(other, "other.png", PNG)
    assert portal.client.get(f"/p/disputes/{mine.pk}/document/").status_code == 404

    # No portal session, or one whose identity is not confirmed: nothing.
    assert Client(REMOTE_ADDR=address()).get(url).status_code == 404
    unverified = Portal(portal.debtor, portal.debtor.loans.first())
    assert unverified.open().status_code == 302
    response = unverified.client.get(url)
    assert response.status_code == 302 and response["Location"] == "/p/"


def test_a_signed_in_member_of_staff_has_no_way_in_through_the_portal(portal, media, supervisor):
    portal.signed_in()
    dispute = _dispute(portal, "a.png", PNG)
    staff = Client(REMOTE_ADDR=address())
    staff.force_login(supervisor)
    assert staff.get(f"/p/disputes/{dispute.pk}/document/").status_code == 404


def test_a_document_missing_on_disk_or_absent_is_404(portal, media):
    portal.signed_in()
    dispute = _dispute(portal, "a.png", PNG)
    dispute.document.storage.delete(dispute.document.name)
    assert portal.client.get(f"/p/disputes/{dispute.pk}/document/").status_code == 404
    portal.client.post("/p/dispute/", {"reason": "No document this time"})
    bare = PortalDispute.objects.filter(debtor=portal.debtor).latest("pk")
    assert not bare.document
    assert portal.client.get(f"/p/disputes/{bare.pk}/document/").status_code == 404
