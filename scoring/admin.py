"""Admin: score models and band rules are read here and changed on the score models page
(``workspace``), where activation and the rules go through the services and their audit."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from debtors.admin_paging import ReadOnlyAdminMixin
from scoring.models import BandRule, ScoreModel


@admin.register(ScoreModel)
class ScoreModelAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("version", "status", "trained_at", "train_from", "train_until", "activated_at")
    list_filter = ("status",)


@admin.register(BandRule)
class BandRuleAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("band", "reminder_band", "priority_weight")
