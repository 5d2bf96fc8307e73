"""``/api/v1/``: included by the project's URLconf under ``api/``."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api import contact_views, views
from api import domain_views as dv
from api.auth_views import TokenView

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("v1/auth/token/", TokenView.as_view(), name="auth-token"),
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
    path("v1/payments/", dv.PaymentListCreateView.as_view(), name="payment-list"),
    path("v1/payments/<int:pk>/", dv.PaymentDetailView.as_view(), name="payment-detail"),
    path("v1/contact-points/", dv.ContactPointListCreateView.as_view(), name="contact-point-list"),
    path(
        "v1/contact-points/<int:pk>/",
        dv.ContactPointDetailView.as_view(),
        name="contact-point-detail",
    ),
    path("v1/installments/", dv.InstallmentListView.as_view(), name="installment-list"),
    path(
        "v1/installments/<int:pk>/", dv.InstallmentDetailView.as_view(), name="installment-detail"
    ),
    path("v1/plans/", dv.PlanListCreateView.as_view(), name="plan-list"),
    path("v1/plans/<int:pk>/", dv.PlanDetailView.as_view(), name="plan-detail"),
    path("v1/promises/", dv.PromiseListCreateView.as_view(), name="promise-list"),
    path("v1/promises/<int:pk>/", dv.PromiseDetailView.as_view(), name="promise-detail"),
    path("v1/cases/", dv.CaseListView.as_view(), name="case-list"),
    path("v1/cases/<int:pk>/", dv.CaseDetailView.as_view(), name="case-detail"),
    path("v1/notes/", dv.NoteListCreateView.as_view(), name="note-list"),
    path("v1/notes/<int:pk>/", dv.NoteDetailView.as_view(), name="note-detail"),
    path("v1/strategies/", dv.StrategyListView.as_view(), name="strategy-list"),
    path("v1/strategies/<int:pk>/", dv.StrategyDetailView.as_view(), name="strategy-detail"),
    path("v1/templates/", dv.TemplateListView.as_view(), name="template-list"),
    path("v1/templates/<int:pk>/", dv.TemplateDetailView.as_view(), name="template-detail"),
    path("v1/imports/", dv.ImportListCreateView.as_view(), name="import-list"),
    path("v1/imports/<int:pk>/", dv.ImportDetailView.as_view(), name="import-detail"),
    path("v1/imports/<int:pk>/issues/", dv.ImportIssueListView.as_view(), name="import-issues"),
    path(
        "v1/imports/<int:pk>/rejected.csv",
        dv.ImportRejectedRowsView.as_view(),
        name="import-rejected",
    ),
]
