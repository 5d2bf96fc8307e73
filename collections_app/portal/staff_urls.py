"""The back office's portal actions (``/portal/``); the debtor's pages are under ``/p/``."""

from django.urls import path

from . import staff

urlpatterns = [
    path("plans/<int:request_id>/decide/", staff.plan_decide, name="portal-plan-decide"),
    path("debtors/<int:debtor_id>/revoke/", staff.links_revoke, name="portal-links-revoke"),
    path(
        "disputes/<int:dispute_id>/document/",
        staff.dispute_document,
        name="portal-dispute-document",
    ),
]
