"""Django admin for the ledger: for the rarely used screens; daily work has its own pages."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .admin_paging import LargeTableAdmin, ReadOnlyAdminMixin
from .erasure import ErasureRefused, debtor_erase
from .models import (
    ChannelConsent,
    ConsentEvent,
    ContactPoint,
    Debtor,
    Erasure,
    Installment,
    Loan,
    Payment,
    PaymentAllocation,
    PlanInstallment,
    PromiseToPay,
    RepaymentPlan,
)


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0
    fields = ("kind", "value", "owner", "status", "is_primary")


@admin.register(Debtor)
class DebtorAdmin(LargeTableAdmin):
    list_display = (
        "external_ref",
        "full_name",
        "country",
        "timezone",
        "dispute",
        "cease_communication",
    )
    list_filter = (
        "country",
        "dispute",
        "bankruptcy",
        "deceased",
        "cease_communication",
        "legal_hold",
    )
    # Exact reference and name-prefix searches use indexes; no leading-wildcard scans.
    search_fields = ("=external_ref", "^full_name")
    ordering = ("-id",)
    inlines = [ContactPointInline]
    exclude = ("national_id",)
    readonly_fields = ("masked_national_id", "erased_at")
    actions = ["erase_personal_data"]

    @admin.display(description=_("national id"))
    def masked_national_id(self, obj):
        return obj.masked_national_id

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("debtors.erase_debtor")

    @admin.action(description=_("Erase personal data (erasure request)"), permissions=["erase"])
    def erase_personal_data(self, request, queryset):
        """An erasure request: asks to confirm, then erases each debtor that may be erased
        (``debtors.erasure.debtor_erase``) and says which were refused and why."""
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/debtors/debtor/erase_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Erase personal data"),
                    "debtors": queryset,
                    "opts": self.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        erased = 0
        for debtor in queryset:
            try:
                if debtor_erase(debtor=debtor, actor=request.user, reason=Erasure.Reason.REQUEST):
                    erased += 1
            except ErasureRefused as refused:
                self.message_user(request, f"{debtor.external_ref}: {refused}", messages.ERROR)
        self.message_user(
            request,
            ngettext(
                "The personal data of %(count)d debtor was erased.",
                "The personal data of %(count)d debtors was erased.",
                erased,
            )
            % {"count": erased},
            messages.SUCCESS,
        )
        return None


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyAdminMixin, LargeTableAdmin):
    list_display = ("debtor", "reason", "actor_label", "erased_at")
    list_filter = ("reason",)
    raw_id_fields = ("debtor",)
    ordering = ("-erased_at",)


@admin.register(ContactPoint)
class ContactPointAdmin(LargeTableAdmin):
    list_display = ("debtor", "kind", "masked_value", "owner", "status")
    list_filter = ("kind", "status", "owner")
    list_select_related = ("debtor",)
    search_fields = ("=value",)
    raw_id_fields = ("debtor",)
    ordering = ("-id",)


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    extra = 0
    can_delete = False
    fields = ("kind", "at", "source", "evidence", "actor_label")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChannelConsent)
class ChannelConsentAdmin(LargeTableAdmin):
    inlines = [ConsentEventInline]
    list_display = (
        "debtor",
        "contact_point",
        "channel",
        "consented_at",
        "expires_at",
        "opted_out_at",
    )
    list_filter = ("channel",)
    list_select_related = ("debtor", "contact_point")
    raw_id_fields = ("debtor", "contact_point")
    ordering = ("-id",)


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0
    fields = ("sequence", "due_date", "amount_due", "amount_paid", "paid_at")
    readonly_fields = ("amount_paid", "paid_at")


@admin.register(Loan)
class LoanAdmin(LargeTableAdmin):
    list_display = (
        "external_ref",
        "debtor",
        "currency",
        "principal_balance",
        "status",
        "oldest_unpaid_due_date",
    )
    list_filter = ("status", "currency", "risk_band")
    list_select_related = ("debtor",)
    search_fields = ("=external_ref", "=debtor__external_ref")
    raw_id_fields = ("debtor",)
    readonly_fields = ("oldest_unpaid_due_date",)
    ordering = ("-id",)
    inlines = [InstallmentInline]


@admin.register(Installment)
class InstallmentAdmin(LargeTableAdmin):
    list_display = ("loan", "sequence", "due_date", "amount_due", "amount_paid")
    list_select_related = ("loan",)
    search_fields = ("=loan__external_ref",)
    raw_id_fields = ("loan",)
    ordering = ("-id",)


class AllocationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentAllocation
    extra = 0


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, LargeTableAdmin):
    """Payments are posted through the payment service (allocation), never typed in here."""

    list_display = (
        "external_ref",
        "source",
        "loan",
        "amount",
        "received_at",
        "method",
        "credit_amount",
    )
    list_filter = ("method", "source")
    list_select_related = ("loan",)
    search_fields = ("=external_ref", "=loan__external_ref")
    date_hierarchy = "received_at"
    ordering = ("-id",)
    inlines = [AllocationInline]


class PlanInstallmentInline(admin.TabularInline):
    model = PlanInstallment
    extra = 0


@admin.register(RepaymentPlan)
class RepaymentPlanAdmin(LargeTableAdmin):
    list_display = (
        "loan",
        "status",
        "total_amount",
        "discount_amount",
        "discount_approved_by",
        "created_at",
    )
    list_filter = ("status", "frequency")
    list_select_related = ("loan", "discount_approved_by")
    search_fields = ("=loan__external_ref",)
    raw_id_fields = ("loan",)
    readonly_fields = ("discount_approved_by", "discount_approved_at")
    ordering = ("-id",)
    inlines = [PlanInstallmentInline]


@admin.register(PromiseToPay)
class PromiseToPayAdmin(LargeTableAdmin):
    list_display = ("loan", "amount", "promised_date", "status", "created_by")
    list_filter = ("status",)
    list_select_related = ("loan", "created_by")
    search_fields = ("=loan__external_ref",)
    raw_id_fields = ("loan",)
    ordering = ("-id",)
