"""The portal's panel on the case page: links opened, plans waiting, disputes, revocation.

The case view has already fetched the debtor through the case scope; the tag only reads the
portal rows of that debtor.
"""

from __future__ import annotations

from django import template

from selfservice.selectors import case_portal

register = template.Library()


@register.inclusion_tag("portal/staff/_case_panel.html", takes_context=True)
def portal_case_panel(context):
    debtor = context["debtor"]
    return {
        "debtor": debtor,
        "portal": case_portal(debtor),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
