"""Admin list pages that stay fast on tables of millions of rows.

Django's changelist runs ``COUNT(*)`` over the whole (filtered) table for its paginator.
On a million loans that is the slowest query of the page. ``LargeTablePaginator`` answers
with PostgreSQL's planner estimate for an unfiltered table and with a capped count
(``COUNT(*)`` over at most ``COUNT_CAP`` rows) for a filtered one.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from simple_history.admin import SimpleHistoryAdmin

COUNT_CAP = 10_000


class LargeTablePaginator(Paginator):
    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[queryset.db]
        if not queryset.query.where:
            # The planner's estimate of the table's rows (pg_class.reltuples, kept by ANALYZE
            # and autovacuum): exact enough for page links, and read instead of a COUNT(*).
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > COUNT_CAP:
                return int(row[0])
        # A filtered list: count at most COUNT_CAP rows (pages beyond that stay reachable).
        return queryset.order_by()[: COUNT_CAP + 1].count()


class LargeTableAdmin(SimpleHistoryAdmin):
    """Base admin: estimated counts, no full count for filters, history view."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    list_per_page = 50


class ReadOnlyAdminMixin:
    """For facts that nobody edits by hand (ledgers, allocations)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


__all__ = ["COUNT_CAP", "LargeTableAdmin", "LargeTablePaginator", "ReadOnlyAdminMixin", "admin"]
