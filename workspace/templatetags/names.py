"""Names of codes and shipped data in the viewer's language: ``{% load names %}``.

* ``{{ loan.product|product }}``: a loan product's name (``debtors.products``); a code the
  back office has no name for is shown as it is.
* ``{{ strategy.name|shipped_name }}``: a reminder strategy's or stage's name, or a strategy's
  description, translated when it is one shipped with the product (``reminders.defaults``);
  a name an admin wrote is shown as written.
* ``{{ template.key|template_name }}``: what a shipped message template is for.
* ``{{ policy.name|policy_text }}``: a shipped contact policy's name or source, translated;
  an admin's own words as written.
* ``{{ channel|channel_label }}``, ``{{ status|delivery_label }}``: a channel's and a delivery
  report's name.
* ``{{ entry.actor|actor }}``: who did something (an ``actor_label``): a user's name as it is,
  the portal and the system's actors in the viewer's language (``debtors.audit``).
"""

from __future__ import annotations

from django import template

from compliance.presets import shipped_text
from debtors.audit import actor_display
from debtors.models import Channel
from debtors.products import product_label
from messaging.models import DeliveryStatus
from reminders.defaults import shipped_name, template_label

register = template.Library()

register.filter("product", product_label)
register.filter("shipped_name", shipped_name)
register.filter("template_name", template_label)
register.filter("actor", actor_display)
register.filter("policy_text", shipped_text)


@register.filter
def channel_label(code: str) -> str:
    return str(dict(Channel.choices).get(code, code))


@register.filter
def delivery_label(code: str) -> str:
    return str(dict(DeliveryStatus.choices).get(code, code))
