"""Reading a self-service link: forged, altered, expired, revoked or unknown all end the same way.

``link_resolve`` answers a ``PortalLink`` or raises ``LinkInvalid`` with no detail: the caller
shows one polite page whatever the cause, so a response never tells whether a reference exists.

A token has a date (the signing server's clock: the link works from it until it expires) and
an issue instant by the database's clock (``messaging.templating.link_clock``). A revocation is
compared with the issue instant, never with the date: a server whose clock runs ahead dates
its tokens later than a revocation that in fact came after them, and by date alone such a link
would open once its date came (``revoked_by_debtor``).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
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
    """The token's date: the signing server's clock when it signed (whole seconds), read
    from the signature's timestamp part."""
    parts = token.rsplit(":", 2)
    if len(parts) != 3:
        raise LinkInvalid
    try:
        seconds = signing.b62_decode(parts[1])
    except (ValueError, TypeError) as exc:
        raise LinkInvalid from exc
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def revoked_by_debtor(link: PortalLink) -> bool:
    """Was the link issued before a revocation of all the debtor's links
    (``PortalEvent.Kind.REVOKED``)? (Part of ``link_is_usable``, the rule every check goes
    through.)

    By the database's clock when the revocation recorded it: the link's issue instant at or
    before it, whatever the link's date; a token made before tokens carried an issue instant
    predates every such revocation. A revocation recorded before revocations kept the
    database's clock is compared with the link's date, as it always was."""
    by_date = Q(recorded_db_at__isnull=True, created_at__gte=link.issued_at)
    if link.issued_db_at is None:
        by_database_clock = Q(recorded_db_at__isnull=False)
    else:
        by_database_clock = Q(recorded_db_at__gte=link.issued_db_at)
    return PortalEvent.objects.filter(
        by_date | by_database_clock, debtor_id=link.debtor_id, kind=PortalEvent.Kind.REVOKED
    ).exists()


def link_is_usable(link: PortalLink, now: dt.datetime | None = None) -> bool:
    """The one rule for whether a link can be used now, for a link opened before (its row) and
    for one opened for the first time (an unsaved ``PortalLink``, judged before it is written).

    Usable: dated no later than now, not expired, not revoked on its own row, and not issued
    before a revocation of all the debtor's links (``revoked_by_debtor``), which also ends the
    links never opened, whatever their date. A link dated later than now (a clock running
    ahead signed it) waits for its date.
    """
    now = now or timezone.now()
    return (
        link.issued_at <= now
        and link.expires_at > now
        and link.revoked_at is None
        and not revoked_by_debtor(link)
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
        content = read_self_service_token(token, max_age=dt.timedelta(days=limits.link_days))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid from exc
    debtor_id, loan_id = content.debtor_id, content.loan_id
    issued_at = token_issued_at(token)
    digest = token_digest(token)
    link = PortalLink.objects.filter(token_digest=digest).first()
    if link is None:
        link = PortalLink(
            token_digest=digest,
            debtor_id=debtor_id,
            issued_at=issued_at,
            issued_db_at=content.issued,
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
