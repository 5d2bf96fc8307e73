"""Replies (``/replies/``): the SMS replies of my cases' debtors, newest first, unread first
marked; opening the case marks them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from workspace.selectors.replies import replies_for

PAGE = 100


@login_required
@require_GET
def replies(request: HttpRequest) -> HttpResponse:
    rows = list(replies_for(request.user)[:PAGE])
    return render(request, "workspace/replies.html", {"replies": rows, "limit": PAGE})
