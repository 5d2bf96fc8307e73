"""Messages: their templates, the debtor's in-app inbox and the letters waiting to be printed.

* ``MessageTemplate``: the text of a message, per template key, channel and language. It is
  checked when saved (``messaging.templating``): an unknown variable or an SMS too long for
  the policy is refused then, never found at send time.
* ``InboxMessage``: the in-app / self-service inbox, shown to the debtor by the portal.
* ``PrintJob``: a letter rendered to PDF and waiting for the print room.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from debtors.audit import audited_history
from debtors.files import RandomName
from debtors.models import Debtor, Language

from .templating import validate_template


class DeliveryStatus(models.TextChoices):
    """What a provider last reported about a message it took."""

    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    READ = "read", _("Read")


class MessageChannel(models.TextChoices):
    """The channels that carry a written message (a call carries none)."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    IN_APP = "in_app", _("In-app message")
    LETTER = "letter", _("Letter")


class MessageTemplate(models.Model):
    """One message text for a template key, channel and language.

    ``body`` (and ``subject`` for email and letters) use ``{{ variable }}`` placeholders only;
    the variables are listed in ``messaging.templating.VARIABLES``.
    """

    key = models.SlugField(_("key"), max_length=64)
    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=MessageChannel.choices,
    )
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    provider_template = models.CharField(
        _("provider template code"),
        max_length=64,
        blank=True,
        help_text=_(
            "For SMS providers that send only approved templates (Alibaba Cloud: SMS_...): "
            "the code of the approved template with this text. Its parameters are the "
            "variables the text uses."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = audited_history(table_name="collections_app_historicalmessagetemplate")

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_messagetemplate"
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["key", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "channel", "language"], name="template_unique_key_channel_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} / {self.channel} / {self.language}"

    def clean(self):
        validate_template(
            channel=self.channel, language=self.language, subject=self.subject, body=self.body
        )


class InboxMessage(models.Model):
    """A message in the debtor's in-app / self-service inbox."""

    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="inbox_messages", verbose_name=_("debtor")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_inboxmessage"
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox messages")
        indexes = [models.Index(fields=["debtor", "-created_at"], name="inbox_debtor_newest")]

    def __str__(self) -> str:
        return self.subject or self.body[:40]


class SentMessage(models.Model):
    """The words of an SMS or email that went out: the contact attempt records that it was
    sent; this keeps what it said, for the case timeline and for disputes about it."""

    attempt = models.OneToOneField(
        "compliance.ContactAttempt",
        on_delete=models.CASCADE,
        related_name="sent_message",
        verbose_name=_("contact attempt"),
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="+", verbose_name=_("debtor")
    )
    channel = models.CharField(_("channel"), max_length=16)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Where it went and through whom: what the provider's delivery reports name it by.
    to = models.CharField(_("to"), max_length=320, blank=True)
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    provider_ref = models.CharField(_("provider's id"), max_length=200, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    # The provider's last delivery report ("" until one arrives).
    delivery_status = models.CharField(
        _("delivery status"), max_length=16, choices=DeliveryStatus.choices, blank=True
    )
    delivery_error = models.CharField(_("delivery error"), max_length=100, blank=True)
    delivery_permanent = models.BooleanField(_("permanent failure"), default=False)
    delivery_at = models.DateTimeField(_("delivery reported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sent message")
        verbose_name_plural = _("sent messages")
        indexes = [
            models.Index(
                fields=["provider", "provider_ref"],
                name="sent_provider_ref",
                condition=~models.Q(provider_ref=""),
            ),
            models.Index(
                fields=["idempotency_key"],
                name="sent_idempotency_key",
                condition=~models.Q(idempotency_key=""),
            ),
            models.Index(fields=["to", "-created_at"], name="sent_to_newest"),
        ]

    def __str__(self) -> str:
        return self.subject or self.body[:40]


class InboundMessage(models.Model):
    """Something a debtor or a provider sent us: an SMS reply or keyword, a bounce, a
    complaint, an unsubscribe. Kept as received, once per provider id (a webhook retried by
    the provider changes nothing the second time), as the evidence of what it caused."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        OPT_OUT = "opt_out", _("Opt-out keyword")
        OPT_IN = "opt_in", _("Opt-in keyword")
        HELP = "help", _("Help keyword")
        BOUNCE = "bounce", _("Bounce")
        DELAY = "delay", _("Delivery delayed")
        COMPLAINT = "complaint", _("Complaint")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")

    channel = models.CharField(_("channel"), max_length=16)
    provider = models.CharField(_("provider"), max_length=32)
    provider_ref = models.CharField(_("provider's id"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    from_address = models.CharField(_("from"), max_length=320)
    to_address = models.CharField(_("to"), max_length=320, blank=True)
    body = models.TextField(_("text"), blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    # What it changed, in words (for supervisors and disputes).
    effect = models.TextField(_("effect"), blank=True)
    # The words a keyword gets back (HELP text, a confirmation), or "" when none is due; and
    # when they were taken for sending: at most once, a repeated task finds it taken.
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_ref"], name="inbound_unique_provider_ref"
            )
        ]
        indexes = [models.Index(fields=["from_address", "-received_at"], name="inbound_from")]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.from_address}"


class ReceivedMessage(models.Model):
    """A reply as a debtor's inbound contact: one per debtor the number belongs to, with its
    inbound contact attempt (the timeline and the API show it), read or not by a collector."""

    attempt = models.OneToOneField(
        "compliance.ContactAttempt",
        on_delete=models.CASCADE,
        related_name="received_message",
        verbose_name=_("contact attempt"),
    )
    inbound = models.ForeignKey(
        InboundMessage,
        on_delete=models.CASCADE,
        related_name="received",
        verbose_name=_("inbound message"),
    )
    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="+", verbose_name=_("debtor")
    )
    channel = models.CharField(_("channel"), max_length=16)
    body = models.TextField(_("text"))
    received_at = models.DateTimeField(_("received at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("read by"),
    )

    class Meta:
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["debtor", "-received_at"],
                name="received_unread",
                condition=models.Q(read_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.body[:40]


class PrintJob(models.Model):
    """A letter rendered to PDF, queued for the print room."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PRINTED = "printed", _("Printed")
        CANCELLED = "cancelled", _("Cancelled")

    debtor = models.ForeignKey(
        Debtor, on_delete=models.CASCADE, related_name="print_jobs", verbose_name=_("debtor")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    address = models.TextField(_("address"))
    pdf = models.FileField(_("PDF"), upload_to=RandomName("letters"))
    pages = models.PositiveIntegerField(_("pages"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    printed_at = models.DateTimeField(_("printed at"), null=True, blank=True)

    class Meta:
        # The table keeps the name it had before the model moved to this app.
        db_table = "collections_app_printjob"
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.status}"
