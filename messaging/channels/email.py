"""Email through Django's email backend (SMTP in production, files in development).

Every email carries ``List-Unsubscribe`` with a mailto and an https one-click link and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 2369, RFC 8058), and goes out with a
VERP envelope sender, ``bounces+<key>@<domain>``, shown as its ``Return-Path``: a bounce comes
back to an address that names the message (``messaging.inbound``).
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from messaging import unsubscribe
from messaging.channels.base import OutcomeUnknown, PermanentError, ReminderBackend, TransientError


class EmailBackend(ReminderBackend):
    channel = "email"
    provider = "smtp"

    def _deliver(self, attempt, message) -> str:
        key = message.metadata.get("idempotency_key", f"attempt-{attempt.pk}")
        message_id = f"<{key}@{unsubscribe.mail_domain()}>"
        bounce_to = unsubscribe.bounce_address(key)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            # Django's SMTP backend uses ``from_email`` as the envelope sender (MAIL FROM);
            # the From header stays the lender's address.
            from_email=bounce_to,
            to=[message.to],
            headers={
                "From": settings.DEFAULT_FROM_EMAIL,
                "Return-Path": f"<{bounce_to}>",
                "Message-ID": message_id,
                "X-Idempotency-Key": key,
                **unsubscribe.list_unsubscribe_headers(message.to, key),
            },
        )
        try:
            email.send(fail_silently=False)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise PermanentError(str(exc)) from exc
        except (smtplib.SMTPConnectError, ConnectionRefusedError) as exc:
            raise TransientError(str(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # The server may have taken the message before the connection broke.
            raise OutcomeUnknown(str(exc)) from exc
        return message_id
