"""Admin for strategies and their stages (admins configure them), and read-only views of the
outbox and of the planner's and dispatcher's runs."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from messaging.admin import OutboxAdmin
from reminders.models import Reminder, ReminderRun, ReminderStage, ReminderStrategy


class ReminderStageInline(admin.TabularInline):
    model = ReminderStage
    extra = 0
    fields = (
        "offset_days",
        "channel",
        "template_key",
        "name",
        "risk_bands",
        "products",
        "min_balance",
        "max_balance",
        "has_active_plan",
        "is_active",
    )


@admin.register(ReminderStrategy)
class ReminderStrategyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "risk_bands", "is_default", "is_active")
    inlines = [ReminderStageInline]


@admin.register(Reminder)
class ReminderAdmin(OutboxAdmin):
    list_display = (
        "id",
        "debtor",
        "loan",
        "stage",
        "channel",
        "scheduled_for",
        "status",
        "reason",
        "not_before",
        "tries",
    )
    list_filter = ("status", "channel", "scheduled_for")
    search_fields = ("=debtor__external_ref", "=loan__external_ref")
    raw_id_fields = (
        "loan",
        "installment",
        "plan_installment",
        "stage",
        "debtor",
        "contact_attempt",
    )
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReminderRun)
class ReminderRunAdmin(admin.ModelAdmin):
    list_display = ("kind", "as_of", "started_at", "finished_at", "actor_label", "counts")
    list_filter = ("kind",)
    ordering = ("-started_at",)
