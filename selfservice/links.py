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
    """Were all of the debtor's links revoked at or after this date? (Part of
    ``link_is_usable``, the rule every check goes through.)"""
    return PortalEvent.objects.filter(
        debtor_id=debtor_id, kind=PortalEvent.Kind.REVOKED, created_at__gte=issued_at
    ).exists()


def link_is_usable(link: PortalLink, now: dt.datetime | None = None) -> bool:
    """The one rule for whether a link can be used now, for a link opened before (its row) and
    for one opened for the first time (an unsaved ``PortalLink``, judged before it is written).

    Usable: dated no later than now, not expired, not revoked on its own row, and not dated at
    or before a revocation of all the debtor's links (``PortalEvent.Kind.REVOKED``), which also
    ends the links never opened. A token's date is the clock of the server that signed it: one
    dated later than now cannot be placed before or after a revocation, so it is refused.
    """
    now = now or timezone.now()
    return (
        link.issued_at <= now
        and link.expires_at > now
        and link.revoked_at is None
        and not revoked_since(link.debtor_id, link.issued_at)
    )


@sensitive_variables("token")
def link_resolve(token: str, *, now: dt.datetime | None = None) -> PortalLink:
    """The ``PortalLink`` of a valid token (written the first time it is opened; a token that
    cannot be used leaves no row)."""
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
    digest = token_digest(token)
    link = PortalLink.objects.filter(token_digest=digest).first()
    if link is None:
        link = PortalLink(
            token_digest=digest,
            debtor_id=debtor_id,
            issued_at=issued_at,
            expires_at=issued_at + dt.timedelta(days=limits.link_days),
            first_opened_at=now,
            last_opened_at=now,
        )
    if not link_is_usable(link, now):
        raise LinkInvalid
    if link.pk is None:
        link = _link_record(link, loan_id=loan_id)
    return link


def _link_record(link: PortalLink, *, loan_id: int | None) -> PortalLink:
    """Write the row of a link opened for the first time (already judged usable)."""
    debtor = Debtor.objects.filter(pk=link.debtor_id).first()
    if debtor is None:
        raise LinkInvalid
    link.debtor = debtor
    link.loan = Loan.objects.filter(pk=loan_id, debtor=debtor).first() if loan_id else None
    try:
        with transaction.atomic():
            link.save(force_insert=True)
    except IntegrityError:
        # The same link opened twice at once: the other request wrote the row.
        link = PortalLink.objects.get(token_digest=link.token_digest)
    return link


def link_make(debtor: Debtor, loan: Loan | None = None) -> str:
    """A fresh self-service URL for the debtor (the same link reminders carry)."""
    return self_service_link(debtor.pk, loan.pk if loan is not None else None)
