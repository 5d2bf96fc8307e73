"""Admin for message templates (admins edit them; each is checked when saved), and read-only
views of the in-app inbox, the print jobs (their PDF through ``letter-pdf``), the messages sent
with their delivery reports, and what came back (replies, keywords, bounces, complaints) with
what it changed."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from debtors.admin_paging import LargeTablePaginator, ReadOnlyAdminMixin

from . import templating
from .models import InboundMessage, InboxMessage, MessageTemplate, PrintJob, SentMessage


class OutboxAdmin(admin.ModelAdmin):
    """Large append-mostly tables: estimated counts, no full count for filters."""

    paginator = LargeTablePaginator
    show_full_result_count = False


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


@admin.register(InboxMessage)
class InboxMessageAdmin(OutboxAdmin):
    list_display = ("id", "debtor", "subject", "created_at", "read_at")
    raw_id_fields = ("debtor",)
    ordering = ("-id",)


@admin.register(PrintJob)
class PrintJobAdmin(OutboxAdmin):
    # The PDF is linked to its page (``letter-pdf``, which checks the debtor's scope), never to
    # a media URL; it is made by the letter channel, not uploaded here.
    list_display = ("id", "debtor", "status", "pages", "created_at", "letter")
    list_filter = ("status",)
    raw_id_fields = ("debtor",)
    ordering = ("-id",)
    exclude = ("pdf",)
    readonly_fields = ("letter",)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("PDF"))
    def letter(self, obj):
        if obj is None or not obj.pk or not obj.pdf:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("letter-pdf", args=[obj.pk]), _("PDF"))


class ReadOnlyAdmin(ReadOnlyAdminMixin, OutboxAdmin):
    """Records of what happened: read, never written by hand."""


@admin.register(SentMessage)
class SentMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "debtor", "channel", "provider", "delivery_status", "created_at")
    list_filter = ("channel", "provider", "delivery_status")
    raw_id_fields = ("debtor", "attempt")
    search_fields = ("provider_ref", "idempotency_key")
    ordering = ("-id",)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "provider", "kind", "received_at", "effect")
    list_filter = ("provider", "kind")
    search_fields = ("provider_ref",)
    ordering = ("-id",)
