"""Cursor pagination: stable under inserts, and it never tells a client how many rows exist."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class ByIdPagination(CursorPagination):
    ordering = ("id",)
    page_size_query_param = "page_size"
    max_page_size = 200


class NewestFirstPagination(CursorPagination):
    """Contact attempts, newest first (id breaks ties between equal instants)."""

    ordering = ("-occurred_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200
