"""Reading a self-service link: forged, altered, expired, revoked or unknown all end the same way.

``link_resolve`` answers a ``PortalLink`` or raises ``LinkInvalid`` with no detail: the caller
shows one polite page whatever the cause, so a response never tells whether a reference exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from debtors.models import Debtor, Loan
from messaging.templating import read_self_service_token, self_service_link
from selfservice.models import PortalEvent, PortalLink, PortalSettings


class LinkInvalid(Exception):
    """The link cannot be used. Deliberately says nothing about why."""


def token_digest(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def token_issued_at(token: str) -> dt.datetime:
    """The instant the token was signed (whole seconds), read from its timestamp part."""
    parts = token.rsplit(":", 2)
    if len(parts) != 3:
        raise LinkInvalid
    try:
        seconds = signing.b62_decode(parts[1])
    except (ValueError, TypeError) as exc:
        raise LinkInvalid from exc
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def revoked_since(debtor_id: int, issued_at: dt.datetime) -> bool:
    """Were all of the debtor's links revoked after this one was issued?"""
    return PortalEvent.objects.filter(
        debtor_id=debtor_id, kind=PortalEvent.Kind.REVOKED, created_at__gte=issued_at
    ).exists()


def link_is_usable(link: PortalLink, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        link.revoked_at is None
        and link.expires_at > now
        and not revoked_since(link.debtor_id, link.issued_at)
    )


@sensitive_variables("token")
def link_resolve(token: str, *, now: dt.datetime | None = None) -> PortalLink:
    """The ``PortalLink`` of a valid token (written the first time it is opened)."""
    now = now or timezone.now()
    if not token or len(token) > 512:
        raise LinkInvalid
    limits = PortalSettings.current()
    try:
        payload = read_self_service_token(token, max_age=dt.timedelta(days=limits.link_days))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid from exc
    if not isinstance(payload, dict):
        raise LinkInvalid
    debtor_id, loan_id = payload.get("d"), payload.get("l")
    if not isinstance(debtor_id, int) or (loan_id is not None and not isinstance(loan_id, int)):
        raise LinkInvalid
    issued_at = token_issued_at(token)
    if revoked_since(debtor_id, issued_at):
        raise LinkInvalid
    digest = token_digest(token)
    link = PortalLink.objects.filter(token_digest=digest).first()
    if link is None:
        debtor = Debtor.objects.filter(pk=debtor_id).first()
        if debtor is None:
            raise LinkInvalid
        loan = Loan.objects.filter(pk=loan_id, debtor=debtor).first() if loan_id else None
        try:
            with transaction.atomic():
                link = PortalLink.objects.create(
                    token_digest=digest,
                    debtor=debtor,
                    loan=loan,
                    issued_at=issued_at,
                    expires_at=issued_at + dt.timedelta(days=limits.link_days),
                    first_opened_at=now,
                    last_opened_at=now,
                )
        except IntegrityError:
            # The same link opened twice at once: the other request wrote the row.
            link = PortalLink.objects.get(token_digest=digest)
    if not link_is_usable(link, now):
        raise LinkInvalid
    return link


def link_make(debtor: Debtor, loan: Loan | None = None) -> str:
    """A fresh self-service URL for the debtor (the same link reminders carry)."""
    return self_service_link(debtor.pk, loan.pk if loan is not None else None)
