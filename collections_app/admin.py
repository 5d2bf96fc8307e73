from django.contrib import admin

from debtors.admin_paging import LargeTableAdmin

from .models import Case


@admin.register(Case)
class CaseAdmin(LargeTableAdmin):
    list_display = ("debtor", "assigned_to", "status", "max_days_past_due", "next_action_on")
    list_filter = ("status",)
    list_select_related = ("debtor", "assigned_to")
    search_fields = ("=debtor__external_ref", "^debtor__full_name")
    raw_id_fields = ("debtor", "assigned_to")
    ordering = ("-id",)


# The reminders' and the portal's admin live beside them.
from .portal import admin as portal_admin  # noqa: E402, F401
from .reminders import admin as reminders_admin  # noqa: E402, F401
