"""What comes back from debtors and providers: SMS replies and keywords, delivery reports,
bounces, complaints and unsubscribes. The webhooks (``messaging.webhooks``) and
``manage.py ingest_mail`` parse what arrives; everything they change goes through here.

Each change is made in the database before the webhook answers, so the gate sees it at once.
An inbound message is kept once per provider id: a provider that posts it again changes
nothing the second time.

Keywords act on every contact point with the sender's number (E.164), whichever debtor it
belongs to, and on no other: STOP and its synonyms opt the number out of SMS (and revoke its
SMS consent), START and its synonyms opt it back in, HELP and INFO get the lender's help text.
A message that only contains a keyword is a reply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from compliance import gate
from compliance.channels import OutboundMessage
from compliance.engine import OPT_OUT_CONFIRMATION
from compliance.models import ContactAttempt, Direction, Outcome
from compliance.services import permit_attempts_complete
from debtors.models import Channel, ContactPoint, Debtor
from debtors.services import contact_point_set_status, contact_points_opt
from messaging import inbound_mail
from messaging.channels.base import PermanentError, TransientError, get_backend
from messaging.models import (
    DeliveryStatus,
    InboundMessage,
    InboxMessage,
    ReceivedMessage,
    SentMessage,
)
from messaging.templating import company_name
from messaging.unsubscribe import mailto_key

logger = logging.getLogger(__name__)

ACTOR = "system: inbound messages"
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"}
    | {"退订", "TD", "T"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})


def keyword(text: str) -> str | None:
    """The keyword ``text`` is, as a whole (trimmed, any case, full-width letters folded), or
    None when it is anything else."""
    folded = " ".join(unicodedata.normalize("NFKC", text or "").split()).upper()
    if folded in OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS:
        return folded
    return None


def kind_of(text: str) -> str:
    word = keyword(text)
    if word in OPT_OUT_WORDS:
        return InboundMessage.Kind.OPT_OUT
    if word in OPT_IN_WORDS:
        return InboundMessage.Kind.OPT_IN
    if word in HELP_WORDS:
        return InboundMessage.Kind.HELP
    return InboundMessage.Kind.REPLY


@dataclass(frozen=True)
class Sms:
    """An SMS a provider delivered to us."""

    provider: str
    provider_ref: str
    from_number: str  # E.164
    to_number: str
    body: str
    received_at: dt.datetime | None = None


@dataclass(frozen=True)
class SmsOutcome:
    inbound: InboundMessage | None  # None: a repeat of a message already received
    kind: str
    points: tuple[ContactPoint, ...]
    # The words to send back (HELP text, opt-out or opt-in confirmation), or "".
    answer: str = ""


def _phones(number: str) -> list[ContactPoint]:
    return list(
        ContactPoint.objects.select_related("debtor")
        .filter(value=number, kind__in=ContactPoint.PHONE_KINDS)
        .order_by("pk")
    )


def _language(points) -> str:
    languages = [p.debtor.preferred_language for p in points if p.debtor.preferred_language]
    return languages[0] if languages else settings.LANGUAGE_CODE


def evidence_of(sms: Sms) -> str:
    return f'SMS from {sms.from_number} via {sms.provider} ({sms.provider_ref}): "{sms.body}"'


def sms_received(sms: Sms) -> SmsOutcome:
    """Record an inbound SMS and act on it, in one transaction."""
    now = sms.received_at or timezone.now()
    kind = kind_of(sms.body)
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                channel=Channel.SMS,
                provider=sms.provider,
                provider_ref=sms.provider_ref[:200],
                kind=kind,
                from_address=sms.from_number[:320],
                to_address=sms.to_number[:320],
                body=sms.body,
                received_at=now,
            )
            points = _phones(sms.from_number)
            answer = _act(inbound, sms, points, now)
            if answer:
                inbound.answer = answer
                inbound.save(update_fields=["answer"])
    except IntegrityError:
        # The provider posted the same message again: it was handled the first time.
        return SmsOutcome(inbound=None, kind=kind, points=())
    return SmsOutcome(inbound=inbound, kind=kind, points=tuple(points), answer=answer)


def _act(inbound: InboundMessage, sms: Sms, points: list[ContactPoint], now) -> str:
    language = _language(points)
    kind = inbound.kind
    if kind in (InboundMessage.Kind.OPT_OUT, InboundMessage.Kind.OPT_IN):
        opt_out = kind == InboundMessage.Kind.OPT_OUT
        changed = contact_points_opt(
            actor=ACTOR,
            points=points,
            channel=Channel.SMS,
            opt_out=opt_out,
            source=f"SMS keyword {keyword(sms.body)} via {sms.provider}",
            evidence=evidence_of(sms),
            now=now,
        )
        if opt_out:
            # Nothing granted before the opt-out may still go out.
            gate.permits_revoke_for_points(
                contact_point_ids=[p.pk for p in points], channel=Channel.SMS
            )
        direction = "out of" if opt_out else "back in to"
        inbound.effect = (
            f"Opted {len(points)} contact point(s) {direction} SMS ({len(changed)} changed)."
        )
        inbound.save(update_fields=["effect"])
        if opt_out:
            return opt_out_confirmation_text(language) if points else ""
        return opt_in_confirmation_text(language) if changed else ""
    if kind == InboundMessage.Kind.HELP:
        inbound.effect = "Answered with the help text."
        inbound.save(update_fields=["effect"])
        return help_text(language)
    _store_reply(inbound, points, now)
    return ""


def _store_reply(inbound: InboundMessage, points: list[ContactPoint], now) -> None:
    """A reply is an inbound contact of each debtor the number belongs to (never counted
    against an outbound limit: the gate counts outbound attempts only)."""
    by_debtor: dict[int, ContactPoint] = {}
    for point in points:
        by_debtor.setdefault(point.debtor_id, point)
    for debtor_id, point in by_debtor.items():
        attempt = ContactAttempt.objects.create(
            debtor_id=debtor_id,
            contact_point=point,
            channel=Channel.SMS,
            direction=Direction.INBOUND,
            outcome=Outcome.RECEIVED,
            occurred_at=now,
            actor_label=ACTOR,
            completed_at=now,
        )
        ReceivedMessage.objects.create(
            attempt=attempt,
            inbound=inbound,
            debtor_id=debtor_id,
            channel=Channel.SMS,
            body=inbound.body,
            received_at=now,
        )
    inbound.effect = (
        f"Stored as a reply of {len(by_debtor)} debtor(s)."
        if by_debtor
        else "No debtor has this number."
    )
    inbound.save(update_fields=["effect"])


# --- Texts sent back ------------------------------------------------------------------------


def help_text(language: str) -> str:
    if settings.SMS_HELP_TEXT:
        return settings.SMS_HELP_TEXT
    with translation.override(language):
        return _(
            "%(company)s: messages about your account. Reply STOP to opt out, START to opt back in."
        ) % {"company": company_name()}


def opt_out_confirmation_text(language: str) -> str:
    with translation.override(language):
        return _(
            "%(company)s: you will receive no more text messages from us. Reply START to opt "
            "back in."
        ) % {"company": company_name()}


def opt_in_confirmation_text(language: str) -> str:
    with translation.override(language):
        return _(
            "%(company)s: you will receive text messages from us again. Reply STOP to opt out."
        ) % {"company": company_name()}


def answer_claim(inbound_id: int) -> InboundMessage | None:
    """Take a keyword's answer for sending, once: a conditional UPDATE, so a second run (a
    repeated task, a retried webhook) finds it taken. Returns the message, or None when there
    is nothing (left) to answer. A crash after the claim leaves the answer unsent rather than
    sent twice: the keyword's effect is already recorded, the answer is a courtesy."""
    claimed = InboundMessage.objects.filter(
        pk=inbound_id, answered_at__isnull=True, channel=Channel.SMS
    ).exclude(answer="")
    if not claimed.update(answered_at=timezone.now()):
        return None
    return InboundMessage.objects.get(pk=inbound_id)


def send_answer(inbound_id: int, *, backend=None) -> int:
    """Send the answer a keyword is due (after the keyword's transaction committed), once,
    through the gate: the opt-out confirmation is the one message the gate allows after an
    opt-out; HELP and START answers are judged as any other message. ``backend`` replaces the
    one the number's route selects (Twilio's TwiML answer). Returns how many went out."""
    inbound = answer_claim(inbound_id)
    if inbound is None:
        return 0
    purpose = OPT_OUT_CONFIRMATION if inbound.kind == InboundMessage.Kind.OPT_OUT else ""
    # One answer per number (several debtors may share it): the first mobile with it.
    point = next(
        (p for p in _phones(inbound.from_address) if p.kind == ContactPoint.Kind.MOBILE), None
    )
    if point is None:
        return 0
    try:
        permit = gate.request(
            debtor=point.debtor,
            channel=Channel.SMS,
            actor=ACTOR,
            contact_point=point,
            purpose=purpose,
        )
    except gate.ContactBlocked as blocked:
        logger.info("keyword answer to point %s blocked: %s", point.pk, blocked.decision.reasons)
        return 0
    chosen = backend or get_backend(Channel.SMS, to=point.value)
    key = f"answer-{permit.attempt_id}"
    try:
        result = chosen.send(
            permit.token,
            OutboundMessage(
                debtor_id=point.debtor_id,
                to=point.value,
                body=inbound.answer,
                metadata={"idempotency_key": key},
            ),
        )
    except (PermanentError, TransientError):
        # Not retried: the keyword's effect stands; a late confirmation would confuse more
        # than it helps.
        logger.warning("the keyword answer to point %s failed", point.pk, exc_info=True)
        permit_attempts_complete(attempt_ids=[permit.attempt_id], outcome=Outcome.FAILED)
        return 0
    except Exception:  # noqa: BLE001 - an unknown outcome stays pending, for a supervisor
        logger.exception("the keyword answer to point %s has an unknown outcome", point.pk)
        return 0
    with transaction.atomic():
        permit_attempts_complete(attempt_ids=[permit.attempt_id], outcome=Outcome.SENT)
        SentMessage.objects.create(
            attempt_id=permit.attempt_id,
            debtor_id=point.debtor_id,
            channel=Channel.SMS,
            body=inbound.answer,
            to=point.value,
            provider=chosen.provider,
            provider_ref=result.provider_ref[:200],
            idempotency_key=key,
        )
    return 1


# --- Delivery reports -------------------------------------------------------------------------

OUTCOMES = {
    DeliveryStatus.DELIVERED: Outcome.DELIVERED,
    DeliveryStatus.READ: Outcome.DELIVERED,
    DeliveryStatus.FAILED: Outcome.FAILED,
}


def delivery_reported(
    *,
    provider: str,
    status: str,
    provider_ref: str = "",
    idempotency_key: str = "",
    error: str = "",
    permanent: bool = False,
    at: dt.datetime | None = None,
) -> SentMessage | None:
    """A provider's report on a message it took, found by its id or our key. Returns the
    message, or None when no message of ours has that id (nothing changes). A permanent
    failure that makes ``SMS_INVALID_AFTER_FAILURES`` in a row to one contact point marks
    it invalid."""
    if status not in DeliveryStatus.values:
        return None
    at = at or timezone.now()
    with transaction.atomic():
        found = SentMessage.objects.select_for_update().select_related("attempt")
        message = None
        if provider_ref:
            message = found.filter(provider=provider, provider_ref=provider_ref).first()
        if message is None and idempotency_key:
            message = found.filter(idempotency_key=idempotency_key).first()
        if message is None:
            return None
        message.delivery_status = status
        message.delivery_error = error[:100]
        message.delivery_permanent = bool(permanent and status == DeliveryStatus.FAILED)
        message.delivery_at = at
        message.save(
            update_fields=["delivery_status", "delivery_error", "delivery_permanent", "delivery_at"]
        )
        outcome = OUTCOMES.get(status)
        if outcome is not None:
            if message.channel == Channel.EMAIL and outcome == Outcome.FAILED:
                outcome = Outcome.BOUNCED
            ContactAttempt.objects.filter(
                pk=message.attempt_id, outcome__in=[Outcome.SENT, Outcome.DELIVERED]
            ).update(outcome=outcome, completed_at=at)
        if message.delivery_permanent:
            _maybe_invalid(message.attempt.contact_point_id, at)
    return message


def _maybe_invalid(point_id: int | None, at) -> bool:
    """Mark the point invalid after enough permanent failures in a row to it."""
    if point_id is None:
        return False
    needed = settings.SMS_INVALID_AFTER_FAILURES
    latest = list(
        SentMessage.objects.filter(attempt__contact_point_id=point_id)
        .exclude(delivery_status="")
        .order_by("-created_at", "-id")
        .values_list("delivery_permanent", flat=True)[:needed]
    )
    if len(latest) < needed or not all(latest):
        return False
    point = ContactPoint.objects.get(pk=point_id)
    if point.status == ContactPoint.Status.INVALID:
        return False
    contact_point_set_status(
        actor="system: delivery reports",
        contact_point=point,
        status=ContactPoint.Status.INVALID,
        now=at,
    )
    return True


# --- Email: bounces, complaints, unsubscribes -----------------------------------------------


def email_points(address: str) -> list[ContactPoint]:
    return list(
        ContactPoint.objects.select_related("debtor")
        .filter(kind=ContactPoint.Kind.EMAIL, value__iexact=address.strip())
        .order_by("pk")
    )


@transaction.atomic
def email_opt_out(*, address: str, source: str, evidence: str, at=None) -> int:
    """Opt every contact point with this address out of email (and void the permits granted
    to it before); returns how many changed."""
    points = email_points(address)
    changed = contact_points_opt(
        actor=ACTOR,
        points=points,
        channel=Channel.EMAIL,
        opt_out=True,
        source=source,
        evidence=evidence,
        now=at,
    )
    gate.permits_revoke_for_points(contact_point_ids=[p.pk for p in points], channel=Channel.EMAIL)
    return len(changed)


def email_invalid(*, address: str, at=None) -> int:
    """Mark every contact point with this address invalid; returns how many changed."""
    count = 0
    for point in email_points(address):
        if point.status != ContactPoint.Status.INVALID:
            contact_point_set_status(
                actor="system: bounces",
                contact_point=point,
                status=ContactPoint.Status.INVALID,
                now=at,
            )
            count += 1
    return count


def lost_contact(points) -> bool:
    """Whether every phone and email of the debtor's own (``points``: their contact points)
    is invalid or a wrong party, and there is at least one."""
    unusable = (ContactPoint.Status.INVALID, ContactPoint.Status.WRONG_PARTY)
    statuses = [
        point.status
        for point in points
        if point.owner == ContactPoint.Owner.SELF
        and point.kind in (*ContactPoint.PHONE_KINDS, ContactPoint.Kind.EMAIL)
    ]
    return bool(statuses) and all(status in unusable for status in statuses)


def mail_received(raw: bytes) -> InboundMessage:
    """Record a message that came back by email and act on it: a permanent bounce (5.x.x)
    marks the address invalid, a temporary one (4.x.x) is recorded only, an abuse report or a
    mail to our unsubscribe address opts the address out of email. The address is the one the
    VERP key's message went to, or failing that the report's Final-Recipient (acted on only
    when it is one of our contact points). The same message received twice acts once."""
    report = inbound_mail.parse(raw)
    unsubscribe = mailto_key(raw)
    key = unsubscribe or report.message_key or ""
    sent = SentMessage.objects.filter(idempotency_key=key).first() if key else None
    kinds = {
        inbound_mail.BOUNCE: InboundMessage.Kind.BOUNCE,
        inbound_mail.DELAY: InboundMessage.Kind.DELAY,
        inbound_mail.COMPLAINT: InboundMessage.Kind.COMPLAINT,
    }
    kind = (
        InboundMessage.Kind.UNSUBSCRIBE
        if unsubscribe
        else kinds.get(report.kind, InboundMessage.Kind.REPLY)
    )
    now = timezone.now()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                channel=Channel.EMAIL,
                provider="email",
                provider_ref=digest,
                kind=kind,
                from_address=report.sender[:320],
                to_address=(sent.to if sent else "")[:320],
                body=report.subject,
                received_at=now,
            )
            message.effect = _act_on_mail(message, report, sent, now)
            message.save(update_fields=["effect"])
    except IntegrityError:
        return InboundMessage.objects.get(provider="email", provider_ref=digest)
    return message


def _act_on_mail(message: InboundMessage, report, sent: SentMessage | None, now) -> str:
    evidence = (
        f"{message.get_kind_display()} from {report.sender or 'unknown sender'}: {report.subject}"[
            :1000
        ]
    )
    if message.kind == InboundMessage.Kind.UNSUBSCRIBE:
        addresses = {a for a in (sent.to if sent else "", report.sender) if a}
        changed = sum(
            email_opt_out(address=a, source="mailto unsubscribe", evidence=evidence, at=now)
            for a in sorted(addresses)
        )
        return f"Opted {changed} contact point(s) out of email."
    if message.kind == InboundMessage.Kind.COMPLAINT:
        address = (sent.to if sent else "") or report.complaint_address or ""
        if not address:
            return "The complaint names no address."
        changed = email_opt_out(
            address=address,
            source=f"abuse report ({report.feedback_type or 'abuse'})",
            evidence=evidence,
            at=now,
        )
        return f"Opted {changed} contact point(s) with {address} out of email."
    if message.kind not in (InboundMessage.Kind.BOUNCE, InboundMessage.Kind.DELAY):
        return "Kept; nothing to act on."
    effects = []
    recipients = list(report.recipients)
    if sent is not None:
        failed = next((r for r in recipients if r.permanent), None)
        if failed is not None or message.kind == InboundMessage.Kind.BOUNCE:
            delivery_reported(
                provider=sent.provider,
                idempotency_key=sent.idempotency_key,
                status=DeliveryStatus.FAILED,
                error=(failed.status if failed else "")[:100],
                permanent=failed is not None,
                at=now,
            )
    for recipient in recipients:
        address = recipient.address
        if sent is not None and len(recipients) == 1:
            address = sent.to or address
        if recipient.permanent:
            changed = email_invalid(address=address, at=now)
            effects.append(f"{address}: {recipient.status}, {changed} contact point(s) invalid")
        else:
            effects.append(f"{address}: {recipient.status or recipient.action}, recorded only")
    return "; ".join(effects) or "No recipient named."


# --- The in-app inbox -------------------------------------------------------------------------


def inbox_messages(debtor: Debtor):
    """The debtor's in-app messages, newest first."""
    return InboxMessage.objects.filter(debtor=debtor).order_by("-created_at", "-id")


def inbox_read(message: InboxMessage, *, at: dt.datetime | None = None) -> InboxMessage:
    """The debtor opened ``message``: it is read (once; opening it again changes nothing), and
    its sent message and contact attempt say so for the case timeline."""
    at = at or timezone.now()
    with transaction.atomic():
        updated = InboxMessage.objects.filter(pk=message.pk, read_at__isnull=True).update(
            read_at=at
        )
        if updated:
            message.read_at = at
            delivery_reported(
                provider="inbox",
                idempotency_key=message.idempotency_key,
                status=DeliveryStatus.READ,
                at=at,
            )
    return message
