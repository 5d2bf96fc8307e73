"""The staff's pages: the queue and the case page, supervisors' and admins' pages, the
wallboard, dashboards, imports, exports, reminders' runs and the staff's side of the debtor
portal."""

from django.urls import include, path

from workspace import exports
from workspace.views import (
    admin_pages,
    imports,
    letters,
    lockouts,
    portal_staff,
    queue,
    reminders,
    replies,
    supervisor,
    wallboard,
)
from workspace.views import case as case_views
from workspace.views import dashboards as dashboard_views
from workspace.views import experiments as experiment_pages
from workspace.views import scoring as scoring_pages

case_actions = [
    path("note/", case_views.note_add, name="case-note"),
    path("callbacks/<int:callback_id>/done/", case_views.callback_done, name="case-callback-done"),
    path("call/", case_views.call_place, name="case-call"),
    path("outcome/", case_views.wrap_up, name="case-outcome"),
    path("plan/preview/", case_views.plan_preview, name="case-plan-preview"),
    path("contact-point/", case_views.contact_point_status, name="case-contact-point"),
    path("hold/", case_views.hold_add, name="case-hold"),
    path("close/", case_views.case_close, name="case-close"),
    path("message/", case_views.message_send, name="case-message"),
    path("reveal/<slug:what>/", case_views.reveal, name="case-reveal"),
    path("panel/<slug:name>/", case_views.panel, name="case-panel"),
]

reminder_pages = [
    path("today/", reminders.run_today, name="reminders-today"),
    path("dispatch/", reminders.run_dispatch, name="reminders-dispatch"),
    path(
        "templates/<int:template_id>/preview/",
        reminders.template_preview,
        name="template-preview",
    ),
]

import_pages = [
    path("", imports.import_list, name="imports"),
    path("<int:job_id>/", imports.import_detail, name="import-detail"),
    path("<int:job_id>/progress/", imports.import_progress, name="import-progress"),
    path("<int:job_id>/rejected.csv", imports.import_rejected, name="import-rejected"),
    path("<int:job_id>/file/", imports.import_file, name="import-file"),
]

export_files = [
    path("cases.csv", exports.cases_csv, name="export-cases"),
    path("contact-ledger.csv", exports.contact_ledger_csv, name="export-contact-ledger"),
    path("payments.csv", exports.payments_csv, name="export-payments"),
]

# The back office's actions on the debtor portal; the debtor's own pages are under /p/.
portal_actions = [
    path("plans/<int:request_id>/decide/", portal_staff.plan_decide, name="portal-plan-decide"),
    path("debtors/<int:debtor_id>/revoke/", portal_staff.links_revoke, name="portal-links-revoke"),
    path(
        "disputes/<int:dispute_id>/document/",
        portal_staff.dispute_document,
        name="portal-dispute-document",
    ),
]

urlpatterns = [
    path("", queue.home, name="home"),
    path("queue/next/", queue.next_case, name="queue-next"),
    path("replies/", replies.replies, name="replies"),
    path("cases/<int:case_id>/", case_views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/", include(case_actions)),
    path("team/", supervisor.team, name="team"),
    path("team/reassign/", supervisor.reassign, name="reassign"),
    path("audit/debtors/<int:debtor_id>/", supervisor.audit_debtor, name="audit-debtor"),
    path("audit/loans/<int:loan_id>/", supervisor.audit_loan, name="audit-loan"),
    path("audit/plans/<int:plan_id>/", supervisor.audit_plan, name="audit-plan"),
    path("audit/policies/<slug:slug>/", supervisor.audit_policy, name="audit-policy"),
    path("decisions/", supervisor.decisions, name="decisions"),
    path("decisions/breaches/", supervisor.breach_log, name="breaches"),
    path("decisions/verify/", supervisor.verify_ledger, name="verify-ledger"),
    path("lockouts/", lockouts.lockouts, name="lockouts"),
    path("lockouts/<int:attempt_id>/unlock/", lockouts.unlock, name="lockout-unlock"),
    path("approvals/", supervisor.approvals, name="approvals"),
    path("approvals/<int:plan_id>/", supervisor.approval_decide, name="approval-decide"),
    path("reminders/", include(reminder_pages)),
    path("wallboard/", wallboard.wallboard, name="wallboard"),
    path("wallboard.csv", wallboard.wallboard_csv, name="wallboard-csv"),
    path("dashboards/", dashboard_views.dashboards, name="dashboards"),
    path("dashboards/<slug:key>.csv", dashboard_views.dashboard_csv, name="dashboard-csv"),
    path("manage/policies/", admin_pages.policies, name="policies"),
    path("manage/policies/<slug:slug>/", admin_pages.policy_edit, name="policy-edit"),
    path("manage/simulator/", admin_pages.simulator, name="simulator"),
    path("manage/queue-weights/", admin_pages.queue_weights, name="queue-weights"),
    path("manage/assignment/", admin_pages.assignment_rules, name="assignment-rules"),
    path("manage/assignment/new/", admin_pages.assignment_rule_edit, name="assignment-rule-new"),
    path(
        "manage/assignment/<int:rule_id>/",
        admin_pages.assignment_rule_edit,
        name="assignment-rule-edit",
    ),
    path("manage/teams/", admin_pages.teams, name="teams"),
    path("manage/teams/new/", admin_pages.team_edit, name="team-new"),
    path("manage/teams/<int:team_id>/", admin_pages.team_edit, name="team-edit"),
    path("manage/users/", admin_pages.users, name="users"),
    path("manage/users/new/", admin_pages.user_edit, name="user-new"),
    path("manage/users/<int:user_id>/", admin_pages.user_edit, name="user-edit"),
    path("manage/holidays/", admin_pages.holidays, name="holidays"),
    path("manage/scores/", scoring_pages.score_models, name="score-models"),
    path(
        "manage/scores/<int:version>/activate/",
        scoring_pages.score_model_activate_view,
        name="score-model-activate",
    ),
    path("manage/scores/bands/", scoring_pages.band_rules, name="score-band-rules"),
    path("experiments/", experiment_pages.experiments, name="experiments"),
    path("experiments/new/", experiment_pages.experiment_new, name="experiment-new"),
    path(
        "experiments/<int:experiment_id>/",
        experiment_pages.experiment_detail,
        name="experiment-detail",
    ),
    path(
        "experiments/<int:experiment_id>/<slug:action>/",
        experiment_pages.experiment_action,
        name="experiment-action",
    ),
    path("manage/strategies/", admin_pages.strategies, name="strategies"),
    path("imports/", include(import_pages)),
    path("letters/<int:print_job_id>/pdf/", letters.letter_pdf, name="letter-pdf"),
    path("exports/", include(export_files)),
    path("portal/", include(portal_actions)),
]
