"""Admin for strategies, stages and templates (admins configure them), and read-only views of
the outbox, the inbox, print jobs and runs."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from collections_app.models import (
    InboxMessage,
    MessageTemplate,
    PrintJob,
    Reminder,
    ReminderRun,
    ReminderStage,
    ReminderStrategy,
)
from debtors.admin_paging import LargeTablePaginator

from . import templating


class OutboxAdmin(admin.ModelAdmin):
    """Large append-mostly tables: estimated counts, no full count for filters."""

    paginator = LargeTablePaginator
    show_full_result_count = False


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


@admin.register(MessageTemplate)
class MessageTemplateAdmin(SimpleHistoryAdmin):
    list_display = ("key", "channel", "language", "subject", "updated_at")
    list_filter = ("channel", "language")
    search_fields = ("key", "subject", "body")
    readonly_fields = ("preview", "variables")

    @admin.display(description=_("Preview with a sample debtor"))
    def preview(self, obj):
        if obj is None or not obj.pk:
            return "-"
        try:
            rendered = templating.validate_template(
                channel=obj.channel, language=obj.language, subject=obj.subject, body=obj.body
            )
        except ValidationError as exc:
            return format_html('<span class="errornote">{}</span>', "; ".join(exc.messages))
        length = ""
        if rendered.sms is not None:
            length = _("%(n)d characters (%(enc)s), %(seg)d of at most %(max)d segments") % {
                "n": rendered.sms.characters,
                "enc": rendered.sms.encoding,
                "seg": rendered.sms.segments,
                "max": templating.sms_max_segments(),
            }
        url = reverse("template-preview", args=[obj.pk])
        return format_html(
            '<strong>{}</strong><pre style="white-space:pre-wrap">{}</pre><p>{}</p>'
            '<p><a href="{}">{}</a></p>',
            rendered.subject,
            rendered.body,
            length,
            url,
            _("Preview for a chosen debtor"),
        )

    @admin.display(description=_("Variables"))
    def variables(self, obj):
        return ", ".join("{{ " + name + " }}" for name in templating.VARIABLES)


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


@admin.register(InboxMessage)
class InboxMessageAdmin(OutboxAdmin):
    list_display = ("id", "debtor", "subject", "created_at", "read_at")
    raw_id_fields = ("debtor",)
    ordering = ("-id",)


@admin.register(PrintJob)
class PrintJobAdmin(OutboxAdmin):
    list_display = ("id", "debtor", "status", "pages", "created_at", "pdf")
    list_filter = ("status",)
    raw_id_fields = ("debtor",)
    ordering = ("-id",)


@admin.register(ReminderRun)
class ReminderRunAdmin(admin.ModelAdmin):
    list_display = ("kind", "as_of", "started_at", "finished_at", "actor_label", "counts")
    list_filter = ("kind",)
    ordering = ("-started_at",)
