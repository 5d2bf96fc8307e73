from django.contrib import admin

from cases.models import Case
from debtors.admin_paging import LargeTableAdmin


@admin.register(Case)
class CaseAdmin(LargeTableAdmin):
    list_display = ("debtor", "assigned_to", "status", "max_days_past_due", "next_action_on")
    list_filter = ("status",)
    list_select_related = ("debtor", "assigned_to")
    search_fields = ("=debtor__external_ref", "^debtor__full_name")
    raw_id_fields = ("debtor", "assigned_to")
    ordering = ("-id",)
