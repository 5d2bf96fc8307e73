"""``/api/v1/``: included by the project's URLconf under ``api/``."""

from django.urls import path, re_path
from rest_framework.authtoken.views import obtain_auth_token

from . import contact_views, views

app_name = "api"

urlpatterns = [
    path("v1/auth/token/", obtain_auth_token, name="auth-token"),
    path("v1/debtors/", views.DebtorListCreateView.as_view(), name="debtor-list"),
    path("v1/debtors/<int:debtor_id>/", views.DebtorDetailView.as_view(), name="debtor-detail"),
    # The contract spells it without a trailing slash; both forms answer.
    re_path(
        r"^v1/debtors/(?P<debtor_id>[0-9]+)/contact-eligibility/?$",
        contact_views.ContactEligibilityView.as_view(),
        name="debtor-contact-eligibility",
    ),
    path(
        "v1/debtors/<int:debtor_id>/contact-permits/",
        contact_views.ContactPermitView.as_view(),
        name="debtor-contact-permits",
    ),
    path("v1/loans/", views.LoanListCreateView.as_view(), name="loan-list"),
    path("v1/loans/<int:loan_id>/", views.LoanDetailView.as_view(), name="loan-detail"),
    path(
        "v1/contact-attempts/",
        contact_views.ContactAttemptListCreateView.as_view(),
        name="contact-attempt-list",
    ),
    path(
        "v1/contact-policies/",
        contact_views.ContactPolicyListCreateView.as_view(),
        name="contact-policy-list",
    ),
    path(
        "v1/contact-policies/<slug:slug>/",
        contact_views.ContactPolicyDetailView.as_view(),
        name="contact-policy-detail",
    ),
]
