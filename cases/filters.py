"""Filters over what a user may see, from query parameters (django-filter).

A filter naming a related object by id (``?debtor=``, ``?loan=``) fetches it through
``cases.access``: another collector's object answers 404, as it does by its own URL, so a
filter cannot be used to learn whether it exists. The API and the exports filter cases with
the same ``CaseFilter``.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from cases.access import get_debtor_for_user, get_loan_for_user
from cases.models import Case, Team


class ScopedIdFilter(django_filters.Filter):
    """``?debtor=<id>``: filters on an object the caller may see, or answers 404. The id is a
    whole number from 1: anything else is a 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args, access=None, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)
        self.access = access

    def filter(self, queryset, value):
        if value in (None, ""):
            return queryset
        target = self.access(self.parent.request.user, value)
        return queryset.filter(**{self.field_name: target})


def debtor_filter(field_name: str = "debtor"):
    return ScopedIdFilter(field_name=field_name, access=get_debtor_for_user, label=_("debtor id"))


def loan_filter(field_name: str = "loan"):
    return ScopedIdFilter(field_name=field_name, access=get_loan_for_user, label=_("loan id"))


class CaseFilter(django_filters.FilterSet):
    debtor = debtor_filter()
    assigned_to = django_filters.NumberFilter(field_name="assigned_to", min_value=1)
    unassigned = django_filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull")
    min_days_past_due = django_filters.NumberFilter(
        field_name="max_days_past_due", lookup_expr="gte", min_value=0
    )
    next_action_before = django_filters.DateFilter(field_name="next_action_on", lookup_expr="lte")
    # The cases of a team's collectors (``?team=<id>``; an unknown team is a 400).
    team = django_filters.ModelChoiceFilter(
        field_name="assigned_to__teams", queryset=Team.objects.all(), label=_("team")
    )

    class Meta:
        model = Case
        fields = ["status"]
