"""``/u/<token>/``: one-click unsubscribe from email (RFC 8058), with no login.

A POST whose body is ``List-Unsubscribe=One-Click`` (what mail clients send) opts the signed
address out of email; doing it twice changes nothing more. A GET shows a confirmation page
in the debtor's language with a button that makes the same POST. A forged or damaged token
gets 404 and changes nothing.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from messaging import inbound, templating, unsubscribe


def _language(address: str) -> str:
    for point in inbound.email_points(address):
        if point.debtor.preferred_language:
            return point.debtor.preferred_language
    return translation.get_language() or "en"


@csrf_exempt  # mail clients post the one-click form without a session or token (RFC 8058)
@require_http_methods(["GET", "POST"])
def one_click(request: HttpRequest, token: str) -> HttpResponse:
    address = unsubscribe.address_of(token)
    if address is None:
        raise Http404("This unsubscribe link is not valid.")
    done = False
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") != "One-Click":
            return HttpResponse(
                "The body must be List-Unsubscribe=One-Click.",
                status=400,
                content_type="text/plain",
            )
        inbound.email_opt_out(
            address=address,
            source="one-click unsubscribe",
            evidence=f"One-click unsubscribe of {address}",
        )
        done = True
    with translation.override(_language(address)):
        return render(
            request,
            "portal/unsubscribe.html",
            {
                "company": templating.company_name(),
                "done": done,
                "current_language": translation.get_language(),
                "masked": _masked(address),
            },
        )


def _masked(address: str) -> str:
    name, _at, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"
