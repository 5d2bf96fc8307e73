"""The portal in Django's admin: its limits (one row) and read-only views of what happened."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from selfservice import services
from selfservice.models import (
    PortalEvent,
    PortalFeedback,
    PortalIdentityLock,
    PortalLink,
    PortalSettings,
)


@admin.register(PortalSettings)
class PortalSettingsAdmin(SimpleHistoryAdmin):
    """One row: the admin edits it; nobody adds a second or deletes it."""

    list_display = (
        "__str__",
        "link_days",
        "promise_max_days",
        "plan_max_installments",
        "plan_min_installment",
        "plan_max_days",
        "identity_attempts",
    )

    def has_add_permission(self, request):
        return not PortalSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        PortalSettings.current()
        return super().get_queryset(request)


@admin.register(PortalLink)
class PortalLinkAdmin(admin.ModelAdmin):
    list_display = (
        "debtor",
        "issued_at",
        "last_opened_at",
        "verified_at",
        "revoked_at",
    )
    list_select_related = ("debtor",)
    raw_id_fields = ("debtor", "loan")
    search_fields = ("=debtor__external_ref",)
    readonly_fields = [f.name for f in PortalLink._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke every link of these debtors"))
    def revoke(self, request, queryset):
        debtors = {link.debtor for link in queryset.select_related("debtor")}
        for debtor in debtors:
            services.links_revoke(actor=request.user, debtor=debtor)
        messages.success(request, _("Links revoked."))


@admin.register(PortalIdentityLock)
class PortalIdentityLockAdmin(admin.ModelAdmin):
    """Read-only: the wrong identity answers counted per debtor and the lock they started."""

    list_display = ("debtor", "failed_attempts", "locked_until")
    list_select_related = ("debtor",)
    search_fields = ("=debtor__external_ref",)
    readonly_fields = [f.name for f in PortalIdentityLock._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PortalEvent)
class PortalEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "debtor", "kind", "actor_label", "detail")
    list_filter = ("kind",)
    list_select_related = ("debtor",)
    search_fields = ("=debtor__external_ref",)
    readonly_fields = [f.name for f in PortalEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PortalFeedback)
class PortalFeedbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "debtor", "score", "comment")
    list_filter = ("score",)
    list_select_related = ("debtor",)
    readonly_fields = [f.name for f in PortalFeedback._meta.fields]

    def has_add_permission(self, request):
        return False
