from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .views import admin_pages
from .views import case as case_views
from .views import dashboards as dashboard_views
from .views import queue as queue_views
from .views import supervisor as supervisor_views

case_actions = [
    path("note/", case_views.note_add, name="case-note"),
    path("callback/", case_views.callback_add, name="case-callback"),
    path("callbacks/<int:callback_id>/done/", case_views.callback_done, name="case-callback-done"),
    path("call/", case_views.call_place, name="case-call"),
    path("outcome/", case_views.outcome_log, name="case-outcome"),
    path("promise/", case_views.promise_add, name="case-promise"),
    path("plan/", case_views.plan_add, name="case-plan"),
    path("plan/preview/", case_views.plan_preview, name="case-plan-preview"),
    path("contact-point/", case_views.contact_point_status, name="case-contact-point"),
    path("hold/", case_views.hold_add, name="case-hold"),
    path("message/", case_views.message_send, name="case-message"),
    path("reveal/<slug:what>/", case_views.reveal, name="case-reveal"),
    path("panel/<slug:name>/", case_views.panel, name="case-panel"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("queue/next/", queue_views.next_case, name="queue-next"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/", include(case_actions)),
    path("team/", supervisor_views.team, name="team"),
    path("team/reassign/", supervisor_views.reassign, name="reassign"),
    path("audit/debtors/<int:debtor_id>/", supervisor_views.audit_debtor, name="audit-debtor"),
    path("audit/loans/<int:loan_id>/", supervisor_views.audit_loan, name="audit-loan"),
    path("audit/plans/<int:plan_id>/", supervisor_views.audit_plan, name="audit-plan"),
    path("audit/policies/<slug:slug>/", supervisor_views.audit_policy, name="audit-policy"),
    path("decisions/", supervisor_views.decisions, name="decisions"),
    path("decisions/breaches/", supervisor_views.breach_log, name="breaches"),
    path("decisions/verify/", supervisor_views.verify_ledger, name="verify-ledger"),
    path("approvals/", supervisor_views.approvals, name="approvals"),
    path("approvals/<int:plan_id>/", supervisor_views.approval_decide, name="approval-decide"),
    path("reminders/", include("collections_app.reminders.urls")),
    path("dashboards/", dashboard_views.dashboards, name="dashboards"),
    path("dashboards/<slug:key>.csv", dashboard_views.dashboard_csv, name="dashboard-csv"),
    path("manage/policies/", admin_pages.policies, name="policies"),
    path("manage/policies/<slug:slug>/", admin_pages.policy_edit, name="policy-edit"),
    path("manage/simulator/", admin_pages.simulator, name="simulator"),
    path("manage/queue-weights/", admin_pages.queue_weights, name="queue-weights"),
    path("manage/users/", admin_pages.users, name="users"),
    path("manage/users/new/", admin_pages.user_edit, name="user-new"),
    path("manage/users/<int:user_id>/", admin_pages.user_edit, name="user-edit"),
    path("manage/holidays/", admin_pages.holidays, name="holidays"),
    path("manage/strategies/", admin_pages.strategies, name="strategies"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("collections_app.api.urls")),
    path("imports/", include("collections_app.imports.urls")),
    path("exports/", include("collections_app.exports")),
    # The debtor self-service portal, and the back office's actions on it.
    path("p/", include("collections_app.portal.urls")),
    path("portal/", include("collections_app.portal.staff_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
