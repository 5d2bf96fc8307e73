"""Email through Django's email backend (SMTP in production, file or locmem elsewhere)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from messaging.channels.base import OutcomeUnknown, PermanentError, ReminderBackend, TransientError


class EmailBackend(ReminderBackend):
    channel = "email"

    def _deliver(self, attempt, message) -> str:
        key = message.metadata.get("idempotency_key", f"attempt-{attempt.pk}")
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        message_id = f"<{key}@{domain}>"
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": message_id, "X-Idempotency-Key": key},
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
