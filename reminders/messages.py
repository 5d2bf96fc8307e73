"""Composing a reminder's message: template, contact point and variables for one debtor."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from debtors.models import ContactPoint
from messaging import templating
from messaging.messages import find_template, opt_out_required, pick_contact_point
from reminders.models import Reminder


class ComposeError(Exception):
    """The message cannot be composed; ``code`` says why (a stable reason code)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Composed:
    to: str
    subject: str
    body: str
    contact_point: ContactPoint | None
    language: str
    metadata: dict = field(default_factory=dict)


def context_for(
    reminder: Reminder,
    *,
    language: str,
    channel: str,
    on: dt.date,
    links_issued: dt.datetime | None = None,
) -> dict:
    """The template's variables. ``links_issued``: the self-service link's issue instant
    (``templating.link_clock``; read for this one link when not given)."""
    loan, debtor = reminder.loan, reminder.debtor
    item = reminder.installment or reminder.plan_installment
    open_amount = item.amount_due - item.amount_paid
    opt_out = (
        templating.opt_out_text(channel, language) if opt_out_required(debtor, channel) else ""
    )
    return {
        "debtor_name": debtor.full_name,
        "amount_due": templating.format_money(open_amount, loan.currency, language),
        "outstanding": templating.format_money(loan.outstanding, loan.currency, language),
        "due_date": templating.format_day(item.due_date, language),
        "days_past_due": str(max(0, (on - item.due_date).days)),
        "loan_ref": loan.external_ref,
        "self_service_link": templating.self_service_link(debtor.pk, loan.pk, issued=links_issued),
        "opt_out_text": opt_out,
        "company_name": templating.company_name(),
    }


def compose(
    reminder: Reminder,
    points: list[ContactPoint],
    *,
    on: dt.date | None = None,
    links_issued: dt.datetime | None = None,
) -> Composed:
    """The message for ``reminder``; raises ``ComposeError`` with a readable reason.
    ``links_issued``: as in ``context_for`` (a batch reads it once for all its messages)."""
    on = on or timezone.localdate()
    debtor, channel = reminder.debtor, reminder.channel
    language = debtor.preferred_language or "en"
    point = pick_contact_point(points, channel)
    if point is None and channel != "in_app":
        raise ComposeError(
            "no_contact_point", f"The debtor has no usable contact point for {channel}."
        )
    template = find_template(reminder.stage.template_key, channel, language)
    if template is None:
        raise ComposeError(
            "template_missing",
            f"No template {reminder.stage.template_key!r} for {channel} in {language} or en.",
        )
    try:
        context = context_for(
            reminder,
            language=template.language,
            channel=channel,
            on=on,
            links_issued=links_issued,
        )
        rendered = templating.render(
            channel=channel, subject=template.subject, body=template.body, context=context
        )
        if channel == "sms":
            templating.check_sms_length(rendered.body)
    except Exception as exc:  # noqa: BLE001 - any template problem is recorded, not raised
        message = "; ".join(getattr(exc, "messages", [])) or str(exc)
        raise ComposeError("template_error", f"Template {template}: {message}") from exc
    return Composed(
        to=point.value if point is not None else debtor.external_ref,
        subject=rendered.subject,
        body=rendered.body,
        contact_point=point,
        language=template.language,
        metadata={
            "idempotency_key": reminder.idempotency_key,
            "language": template.language,
            "company_name": templating.company_name(),
            # Providers that send only approved templates get the code and its parameters.
            "provider_template": template.provider_template,
            "variables": {
                name: context[name]
                for name in templating.placeholders(template.body)
                if name in context
            },
        },
    )
