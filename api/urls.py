"""``/api/v1/``: included by the project's URLconf under ``api/``."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.resources import (
    assignment_rules,
    auth,
    cases,
    consents,
    contact_attempts,
    contact_eligibility,
    contact_points,
    contact_policies,
    debtors,
    imports,
    installments,
    loans,
    notes,
    payments,
    plans,
    promises,
    strategies,
    templates,
)

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The page loads its start-up script from a URL of its own (no inline script).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("v1/auth/token/", auth.TokenView.as_view(), name="auth-token"),
    path("v1/debtors/", debtors.DebtorListCreateView.as_view(), name="debtor-list"),
    path("v1/debtors/<int:debtor_id>/", debtors.DebtorDetailView.as_view(), name="debtor-detail"),
    path(
        "v1/debtors/<int:debtor_id>/reveal/",
        debtors.DebtorRevealView.as_view(),
        name="debtor-reveal",
    ),
    # The contract spells it without a trailing slash; both forms answer.
    re_path(
        r"^v1/debtors/(?P<debtor_id>[0-9]+)/contact-eligibility/?$",
        contact_eligibility.ContactEligibilityView.as_view(),
        name="debtor-contact-eligibility",
    ),
    path(
        "v1/debtors/<int:debtor_id>/contact-permits/",
        contact_eligibility.ContactPermitView.as_view(),
        name="debtor-contact-permits",
    ),
    path("v1/loans/", loans.LoanListCreateView.as_view(), name="loan-list"),
    path("v1/loans/<int:loan_id>/", loans.LoanDetailView.as_view(), name="loan-detail"),
    path(
        "v1/contact-attempts/",
        contact_attempts.ContactAttemptListCreateView.as_view(),
        name="contact-attempt-list",
    ),
    path(
        "v1/contact-policies/",
        contact_policies.ContactPolicyListCreateView.as_view(),
        name="contact-policy-list",
    ),
    path(
        "v1/contact-policies/<slug:slug>/",
        contact_policies.ContactPolicyDetailView.as_view(),
        name="contact-policy-detail",
    ),
    path("v1/payments/", payments.PaymentListCreateView.as_view(), name="payment-list"),
    path("v1/payments/<int:pk>/", payments.PaymentDetailView.as_view(), name="payment-detail"),
    path(
        "v1/contact-points/",
        contact_points.ContactPointListCreateView.as_view(),
        name="contact-point-list",
    ),
    path(
        "v1/contact-points/<int:pk>/",
        contact_points.ContactPointDetailView.as_view(),
        name="contact-point-detail",
    ),
    path("v1/installments/", installments.InstallmentListView.as_view(), name="installment-list"),
    path(
        "v1/installments/<int:pk>/",
        installments.InstallmentDetailView.as_view(),
        name="installment-detail",
    ),
    path("v1/plans/", plans.PlanListCreateView.as_view(), name="plan-list"),
    path("v1/plans/<int:pk>/", plans.PlanDetailView.as_view(), name="plan-detail"),
    path("v1/promises/", promises.PromiseListCreateView.as_view(), name="promise-list"),
    path("v1/promises/<int:pk>/", promises.PromiseDetailView.as_view(), name="promise-detail"),
    path("v1/cases/", cases.CaseListView.as_view(), name="case-list"),
    path("v1/cases/next/", cases.NextCaseView.as_view(), name="case-next"),
    path("v1/cases/<int:pk>/", cases.CaseDetailView.as_view(), name="case-detail"),
    path("v1/cases/<int:pk>/close/", cases.CaseCloseView.as_view(), name="case-close"),
    path("v1/cases/<int:pk>/history/", cases.CaseHistoryView.as_view(), name="case-history"),
    path(
        "v1/assignment-rules/",
        assignment_rules.AssignmentRuleListView.as_view(),
        name="assignment-rule-list",
    ),
    path(
        "v1/assignment-rules/apply/",
        assignment_rules.AssignmentApplyView.as_view(),
        name="assignment-rule-apply",
    ),
    path(
        "v1/assignment-rules/<int:pk>/",
        assignment_rules.AssignmentRuleDetailView.as_view(),
        name="assignment-rule-detail",
    ),
    path("v1/consents/", consents.ConsentListCreateView.as_view(), name="consent-list"),
    path("v1/notes/", notes.NoteListCreateView.as_view(), name="note-list"),
    path("v1/notes/<int:pk>/", notes.NoteDetailView.as_view(), name="note-detail"),
    path("v1/strategies/", strategies.StrategyListView.as_view(), name="strategy-list"),
    path(
        "v1/strategies/<int:pk>/", strategies.StrategyDetailView.as_view(), name="strategy-detail"
    ),
    path("v1/templates/", templates.TemplateListView.as_view(), name="template-list"),
    path("v1/templates/<int:pk>/", templates.TemplateDetailView.as_view(), name="template-detail"),
    path("v1/imports/", imports.ImportListCreateView.as_view(), name="import-list"),
    path("v1/imports/<int:pk>/", imports.ImportDetailView.as_view(), name="import-detail"),
    path(
        "v1/imports/<int:pk>/issues/",
        imports.ImportIssueListView.as_view(),
        name="import-issues",
    ),
    path(
        "v1/imports/<int:pk>/rejected.csv",
        imports.ImportRejectedRowsView.as_view(),
        name="import-rejected",
    ),
]
