"""Admin: policies are edited by admins (each save is a new version); the ledger, attempts and
permits are read-only, with list pages that stay fast on tables of millions of rows."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from debtors.admin_paging import LargeTablePaginator, ReadOnlyAdminMixin

from .models import (
    RULES_HELP,
    ContactAttempt,
    ContactDecision,
    ContactPermit,
    ContactPolicy,
    DebtorContactPreference,
)
from .reasons import reason_label
from .services import POLICY_FIELDS, policy_create, policy_save


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger, attempts and permits: read-only, and never a full count of the table."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    list_per_page = 50


@admin.register(ContactPolicy)
class ContactPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "slug",
        "version",
        "name",
        "country",
        "region",
        "is_default",
        "is_active",
        "is_current",
        "created_at",
        "created_by_label",
    )
    list_filter = ("is_current", "is_active", "country")
    search_fields = ("slug", "name")
    fields = (
        "slug",
        "name",
        "country",
        "region",
        "is_default",
        "is_active",
        "rules",
        "source",
        "notes",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if not obj.is_current:
            # An old version is a record of what decisions used: never edited.
            return (*self.fields, "version", "created_at", "created_by_label")
        return ("slug", "version", "created_at", "created_by_label")

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return (*self.fields, "version", "created_at", "created_by_label")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "rules" in form.base_fields and obj is not None and obj.source:
            form.base_fields["rules"].help_text = _("%(help)s This policy's source: %(source)s") % {
                "help": RULES_HELP,
                "source": obj.source,
            }
        return form

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            fields = {
                name: form.cleaned_data.get(name, getattr(obj, name)) for name in POLICY_FIELDS
            }
            saved = policy_create(actor=request.user, slug=obj.slug, **fields)
        else:
            original = ContactPolicy.objects.get(pk=obj.pk)
            changes = {
                name: form.cleaned_data[name] for name in POLICY_FIELDS if name in form.cleaned_data
            }
            saved = policy_save(actor=request.user, policy=original, **changes)
        # The admin goes on with the row it was given: point it at the version just written.
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})
        obj.pk = saved.pk


@admin.register(ContactDecision)
class ContactDecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "decided_at",
        "debtor",
        "channel",
        "allowed",
        "reason_labels",
        "policy_slug",
        "policy_version",
        "actor_label",
        "is_sealed",
    )
    list_filter = ("allowed", "channel")
    list_select_related = ("debtor",)
    raw_id_fields = ("debtor", "loan", "contact_point", "policy")
    search_fields = ("=debtor__external_ref",)
    ordering = ("-id",)

    @admin.display(description=_("reasons"))
    def reason_labels(self, obj):
        return ", ".join(str(reason_label(code)) for code in obj.reasons)

    @admin.display(description=_("sealed"), boolean=True)
    def is_sealed(self, obj):
        return obj.row_hash is not None


@admin.register(ContactAttempt)
class ContactAttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "occurred_at",
        "debtor",
        "channel",
        "direction",
        "outcome",
        "breach",
        "actor_label",
    )
    list_filter = ("channel", "direction", "outcome", "breach")
    list_select_related = ("debtor",)
    raw_id_fields = ("debtor", "loan", "contact_point", "decision", "breach_policy", "actor_user")
    search_fields = ("=debtor__external_ref",)
    ordering = ("-id",)


@admin.register(ContactPermit)
class ContactPermitAdmin(ReadOnlyAdmin):
    list_display = ("id", "debtor_id", "channel", "issued_at", "expires_at", "redeemed_at")
    list_filter = ("channel",)
    exclude = ("token_hash",)
    raw_id_fields = ("decision", "attempt")
    ordering = ("-id",)


@admin.register(DebtorContactPreference)
class DebtorContactPreferenceAdmin(admin.ModelAdmin):
    list_display = ("debtor", "kind", "channel", "weekdays", "start_time", "end_time", "source")
    list_select_related = ("debtor",)
    list_filter = ("kind", "source")
    raw_id_fields = ("debtor",)
