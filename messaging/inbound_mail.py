"""Mail that comes back to the lender, read without a database: bounces, complaints, replies.

``parse(raw)`` takes the bytes of one message as the mailbox received it and returns a
``MailReport``. It never raises: input the ``email`` package cannot read, or that is too
hostile to read safely, comes back as kind ``"unparsable"`` (or ``"reply"`` when only its
headers are readable). Every string in a report is valid UTF-8 text without control characters
(safe to store), with runs of whitespace collapsed, at most ``MAX_TEXT_CHARS`` long.

Kinds:

=============  =================================================================================
``bounce``     a delivery status notification (RFC 3464) with at least one recipient whose
               Action is ``failed`` or whose Status is permanent (5.x.x). A ``failed`` recipient
               with a 4.x.x Status is a message the MTA gave up on after retrying: the message
               is lost, but ``permanent`` is False, so the address itself is not known bad.
``delay``      a DSN whose recipients are only delayed or temporary (4.x.x): still being tried.
``complaint``  an abuse report (ARF, RFC 5965), whatever its Feedback-Type (``abuse``, ``fraud``,
               ``not-spam``, ...): the caller decides what each type means.
``reply``      anything else with readable headers: a person's reply, an auto-reply, a read
               receipt, a bounce in free text that is not RFC 3464 (some old MTAs), and a DSN
               that reports only ``delivered``/``relayed``/``expanded`` (its recipients are set).
``unparsable`` empty input, no header at all, a parser failure, or a report (DSN or ARF) whose
               machine-readable part is missing or unreadable (a truncated bounce). Sender,
               subject and message key are still filled in when they could be read.
=============  =================================================================================

``message_key`` is the first key found in, in this order: a VERP address among the report's own
envelope-recipient headers (X-Original-To, Delivered-To, Envelope-To, To; an MTA sends a bounce
to the Return-Path, so a VERP Return-Path comes back here; RFC 3834 auto-replies too); the
enclosed original's Return-Path; the ARF Original-Mail-From (the same envelope sender, as the
receiver saw it); an ``X-Message-Key`` header of the original (one word). Any domain is
accepted. Bounces are not authenticated: anyone can send one to a VERP address, so treat the key
as a pointer to check (does that message's recipient match ``recipients``?), not as proof.

``original_message_id`` is the Message-ID of the original enclosed in a report (as written,
``<...>``); for a reply, the first message id of its In-Reply-To.

Recipient statuses: the address is the Final-Recipient (else the Original-Recipient) with its
address type removed, lower-cased. The Status is the first X.Y.Z code of the Status field;
when that only says X.0.0 (as Exim's do), a code of the same class in the Diagnostic-Code takes
its place, so that 5.7.1 (refused by policy) and 5.1.1 (no such mailbox) can be told apart; when
the Status field has no code, the Diagnostic-Code's is used; without any X.Y.Z code, an SMTP reply
code (550) gives X.0.0. A missing or unknown Action is derived from the Status class. The
diagnostic is the Diagnostic-Code without its type ("smtp;"), else the comment of the Status field.

Limits, so that hostile mail costs little: only the first ``MAX_MESSAGE_BYTES`` are read (the
report parts come first; the tail of a large original or attachment is not needed); each header
value is cut to ``MAX_HEADER_CHARS`` before it is parsed, because the ``email`` header parser is
quadratic or recursive on some long values (a 1 MB To list takes about a minute); a message key
longer than ``MAX_KEY_CHARS`` is ignored.

VERP: ``bounces+<key>@<domain>``. Letters, digits, ``-``, ``_`` and ``.`` stand for themselves;
any other character, and a ``.`` that would end the key or follow another, is written as
``=XX`` per UTF-8 byte (``=`` itself is ``=3D``), so the local part stays a plain dot-atom.
"""

from __future__ import annotations

import base64
import re
import string
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import EmailPolicy
from email.utils import collapse_rfc2231_value

VERP_LOCAL = "bounces"

MAX_MESSAGE_BYTES = 1024 * 1024
MAX_HEADER_CHARS = 4096
MAX_TEXT_CHARS = 1000
MAX_KEY_CHARS = 200
MAX_LOCAL_PART_CHARS = 64  # RFC 5321 4.5.3.1.1; longer local parts are refused by some MTAs.

BOUNCE = "bounce"
DELAY = "delay"
COMPLAINT = "complaint"
REPLY = "reply"
UNPARSABLE = "unparsable"

ACTIONS = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})
ACTION_BY_STATUS_CLASS = {"2": "delivered", "4": "delayed", "5": "failed"}

STATUS_TYPES = frozenset(
    {"message/delivery-status", "message/global-delivery-status", "text/delivery-status"}
)
FEEDBACK_TYPES = frozenset({"message/feedback-report"})
ORIGINAL_TYPES = frozenset(
    {
        "message/rfc822",
        "message/global",
        "text/rfc822-headers",
        "message/rfc822-headers",
        "message/global-headers",
    }
)
ENVELOPE_RECIPIENT_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "To")

_KEY_LITERALS = frozenset(string.ascii_letters + string.digits + "-_.")
_ENCODED_KEY_RE = re.compile(r"(?:[A-Za-z0-9._-]|=[0-9A-Fa-f]{2})+")
_ESCAPE_RE = re.compile(rb"=([0-9A-Fa-f]{2})")
_DOMAIN_RE = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
# The local part starts the string or follows a separator, so "xbounces+..." is not ours.
_VERP_RE = re.compile(
    rf"(?<![^\s<\"'(,:;]){re.escape(VERP_LOCAL)}\+([^@\s<>]*)@[^\s<>@]+", re.IGNORECASE
)
_ANGLE_RE = re.compile(r"<([^<>]*)>")
_ADDRESS_RE = re.compile(r"[^\s<>()\[\],;:\"]+@[^\s<>()\[\],;:\"]+")
_MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
_ENHANCED_STATUS_RE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
_REPLY_CODE_RE = re.compile(r"^([245])\d\d(?![\d.])")
_BLOCK_SEPARATOR_RE = re.compile(rb"\r?\n[ \t]*\r?\n")
_CONTROL_CHARACTERS = dict.fromkeys([*range(0x20), 0x7F], " ")


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient block of a DSN."""

    address: str  # lower-cased addr-spec, "" when the block names none
    action: str  # failed, delayed, delivered, relayed, expanded; "" when it cannot be told
    status: str  # "5.1.1"; "" when none could be found
    diagnostic: str
    permanent: bool  # status class 5
    temporary: bool  # status class 4


@dataclass(frozen=True)
class MailReport:
    """What one inbound message says about a message we sent (see the module docstring)."""

    kind: str
    message_key: str | None = None
    recipients: tuple[RecipientStatus, ...] = ()
    complaint_address: str | None = None
    feedback_type: str | None = None
    original_message_id: str | None = None
    sender: str = ""
    subject: str = ""


class _BoundedPolicy(EmailPolicy):
    """``email.policy.default``, with each header value cut to ``MAX_HEADER_CHARS`` when read."""

    def header_fetch_parse(self, name, value):
        if isinstance(value, str) and len(value) > MAX_HEADER_CHARS:
            value = value[:MAX_HEADER_CHARS]
        return super().header_fetch_parse(name, value)


POLICY = _BoundedPolicy()


# VERP ------------------------------------------------------------------------------------------


def verp_address(message_key: str, domain: str) -> str:
    """The Return-Path that brings bounces of the message ``message_key`` back to ``domain``.

    Raises ``ValueError`` for an empty key, a key with control characters, a domain that is not
    an ASCII host name (pass IDNs as punycode), or a local part longer than 64 characters.
    """
    if not message_key:
        raise ValueError("A message key is required.")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in message_key):
        raise ValueError("A message key may not contain control characters.")
    domain = domain.strip()
    if not _DOMAIN_RE.fullmatch(domain):
        raise ValueError(f"Not a host name: {domain!r}.")
    local = f"{VERP_LOCAL}+{_encode_key(message_key)}"
    if len(local) > MAX_LOCAL_PART_CHARS:
        raise ValueError(f"The key makes a local part of {len(local)} characters (at most 64).")
    return f"{local}@{domain}"


def verp_key(address: str) -> str | None:
    """The message key of a VERP address, or None when ``address`` is not one.

    Accepts ``bounces+key@domain``, with the prefix in any case, inside ``<...>`` and with a
    display name or comment. An escape that is not ``=XX`` or bytes that are not UTF-8 make it
    not a VERP address, and so does a key longer than ``MAX_KEY_CHARS``.
    """
    if not isinstance(address, str):
        return None
    text = address[:MAX_HEADER_CHARS]
    bracketed = _ANGLE_RE.findall(text)
    match = _VERP_RE.search(bracketed[-1] if bracketed else text)
    key = _decode_key(match[1]) if match else None
    return key if key and len(key) <= MAX_KEY_CHARS else None


def _encode_key(key: str) -> str:
    pieces: list[str] = []
    for index, char in enumerate(key):
        dot_breaks_atom = char == "." and (index == len(key) - 1 or pieces[-1:] == ["."])
        if char in _KEY_LITERALS and not dot_breaks_atom:
            pieces.append(char)
        else:
            pieces.append("".join(f"={byte:02X}" for byte in char.encode("utf-8")))
    return "".join(pieces)


def _decode_key(encoded: str) -> str | None:
    if not _ENCODED_KEY_RE.fullmatch(encoded):
        return None
    data = _ESCAPE_RE.sub(lambda match: bytes([int(match[1], 16)]), encoded.encode("ascii"))
    try:
        key = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        return None
    return key


# Parsing ---------------------------------------------------------------------------------------


def parse(raw: bytes) -> MailReport:
    """Read one inbound message; never raises (see the module docstring)."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        return MailReport(kind=UNPARSABLE)
    data = bytes(raw[:MAX_MESSAGE_BYTES])
    if not data.strip():
        return MailReport(kind=UNPARSABLE)
    try:
        return _read(BytesParser(policy=POLICY).parsebytes(data))
    except Exception:  # noqa: BLE001 - the contract: hostile mail is reported, never raised
        return MailReport(kind=UNPARSABLE)


def _read(message: Message) -> MailReport:
    if not message.keys():
        return MailReport(kind=UNPARSABLE)
    common = {
        "sender": _first(_addresses(message, "From")).lower()[:MAX_TEXT_CHARS],
        "subject": _field(message, "Subject")[:MAX_TEXT_CHARS],
    }
    parts = _parts(message)
    report_type = _report_type(message)
    status_parts = [part for part in parts if _content_type(part) in STATUS_TYPES]
    feedback_parts = [part for part in parts if _content_type(part) in FEEDBACK_TYPES]
    original = _original(parts)
    envelope_key = _verp_key_in(message, ENVELOPE_RECIPIENT_HEADERS)

    is_arf = report_type == "feedback-report" or (
        not report_type and bool(feedback_parts) and not status_parts
    )
    if is_arf:
        feedback = _first_block(feedback_parts)
        return MailReport(
            kind=COMPLAINT if feedback is not None else UNPARSABLE,
            message_key=envelope_key or _original_key(original, feedback),
            complaint_address=_complaint_address(feedback, original),
            feedback_type=_feedback_type(feedback),
            original_message_id=_message_id(original, "Message-ID"),
            **common,
        )
    if report_type == "delivery-status" or status_parts:
        recipients = tuple(
            recipient
            for part in status_parts
            for block in _blocks(part)
            if (recipient := _recipient(block)) is not None
        )
        return MailReport(
            kind=_dsn_kind(recipients),
            message_key=envelope_key or _original_key(original, None),
            recipients=recipients,
            original_message_id=_message_id(original, "Message-ID"),
            **common,
        )
    return MailReport(
        kind=REPLY,
        message_key=envelope_key,
        original_message_id=_message_id(message, "In-Reply-To"),
        **common,
    )


def _dsn_kind(recipients: tuple[RecipientStatus, ...]) -> str:
    if not recipients:
        return UNPARSABLE
    if any(r.action == "failed" or r.permanent for r in recipients):
        return BOUNCE
    if any(r.action == "delayed" or r.temporary for r in recipients):
        return DELAY
    return REPLY


def _recipient(block: Message) -> RecipientStatus | None:
    """The recipient a DSN block reports on, or None for the per-message block."""
    final = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
    action_field = _field(block, "Action")
    status_field = _field(block, "Status")
    if not (final or action_field or status_field):
        return None
    diagnostic = _without_type(_field(block, "Diagnostic-Code"))
    status = _status(status_field, diagnostic)
    action = re.sub(r"[^a-z]", "", action_field.split(" ")[0].lower()) if action_field else ""
    if action not in ACTIONS:
        action = ACTION_BY_STATUS_CLASS.get(status[:1], "")
    if not diagnostic:
        diagnostic = _ENHANCED_STATUS_RE.sub("", status_field, count=1).strip(" ()")
    return RecipientStatus(
        address=_address_of(_without_type(final)),
        action=action,
        status=status,
        diagnostic=diagnostic[:MAX_TEXT_CHARS],
        permanent=status.startswith("5"),
        temporary=status.startswith("4"),
    )


def _status(status_field: str, diagnostic: str) -> str:
    stated = _ENHANCED_STATUS_RE.search(status_field)
    detail = _ENHANCED_STATUS_RE.search(diagnostic)
    if stated and detail and stated[0].endswith(".0.0") and detail[1] == stated[1]:
        return detail[0]  # Exim states 5.0.0 and gives the precise code in the diagnostic.
    if stated:
        return stated[0]
    if detail:
        return detail[0]
    reply_code = _REPLY_CODE_RE.match(status_field) or _REPLY_CODE_RE.match(diagnostic)
    return f"{reply_code[1]}.0.0" if reply_code else ""


def _complaint_address(feedback: Message | None, original: Message | None) -> str | None:
    address = (
        _address_of(_field(feedback, "Original-Rcpt-To"))
        or _first(_addresses(original, "To")).lower()
    )
    return address[:MAX_TEXT_CHARS] or None


def _feedback_type(feedback: Message | None) -> str | None:
    return _field(feedback, "Feedback-Type").split(" ")[0].lower() or None


def _original_key(original: Message | None, feedback: Message | None) -> str | None:
    if key := _verp_key_in(original, ("Return-Path",)):
        return key
    if key := _verp_key_in(feedback, ("Original-Mail-From",)):
        return key
    stated = _field(original, "X-Message-Key")
    if stated and len(stated) <= MAX_KEY_CHARS and " " not in stated:
        return stated
    return None


def _verp_key_in(message: Message | None, names: tuple[str, ...]) -> str | None:
    for name in names:
        for address in _addresses(message, name):
            if key := verp_key(address):
                return key
    return None


# Finding the parts -----------------------------------------------------------------------------


def _parts(message: Message) -> list[Message]:
    """The top-level parts; a report forwarded inside message/rfc822 is not looked into."""
    payload = message.get_payload()
    if not isinstance(payload, list):
        return []
    return [part for part in payload if isinstance(part, Message)]


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001 - a part we cannot type is a part we skip
        return ""


def _report_type(message: Message) -> str:
    if _content_type(message) != "multipart/report":
        return ""
    try:
        value = message.get_param("report-type")
    except Exception:  # noqa: BLE001 - an unreadable parameter is an absent one
        return ""
    return _text(collapse_rfc2231_value(value)).lower() if value else ""


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part.

    The ``email`` package parses message/* bodies itself: a list of one Message per block.
    A body it could not parse that way (a text/* type, a base64 body) is split on blank lines.
    """
    payload = part.get_payload()
    if isinstance(payload, list) and not _is_base64(part):
        return [block for block in payload if isinstance(block, Message)]
    data = _decoded_body(part)
    if data is None:
        return []
    parser = BytesHeaderParser(policy=POLICY)
    return [
        parser.parsebytes(chunk.strip())
        for chunk in _BLOCK_SEPARATOR_RE.split(data)
        if chunk.strip()
    ]


def _first_block(parts: list[Message]) -> Message | None:
    for part in parts:
        for block in _blocks(part):
            if block.keys():
                return block
    return None


def _original(parts: list[Message]) -> Message | None:
    """The headers of the message the report is about (message/rfc822 or text/rfc822-headers)."""
    for part in parts:
        if _content_type(part) not in ORIGINAL_TYPES:
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and not _is_base64(part):
            found = [item for item in payload if isinstance(item, Message)]
            if found:
                return found[0]
            continue
        data = _decoded_body(part)
        if data and data.strip():
            return BytesHeaderParser(policy=POLICY).parsebytes(data.lstrip())
    return None


def _is_base64(part: Message) -> bool:
    return _field(part, "Content-Transfer-Encoding").lower() == "base64"


def _decoded_body(part: Message) -> bytes | None:
    """The body of a part, transfer encoding undone.

    A message/* part sent as base64 (RFC 6532 allows it for message/global*) comes out of the
    ``email`` package as one header-less message holding the base64 text; it is decoded here.
    """
    payload = part.get_payload()
    if not isinstance(payload, list):
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else None
    encoded = "".join(str(item.get_payload()) for item in payload if isinstance(item, Message))
    try:
        return base64.b64decode(encoded)
    except ValueError:  # binascii.Error, or text that is not ASCII
        return None


# Reading headers -------------------------------------------------------------------------------


def _field(message: Message | None, name: str) -> str:
    """The first value of header ``name`` as clean text; "" when absent or unreadable."""
    return _first(_values(message, name))


def _values(message: Message | None, name: str) -> list[str]:
    """Every value of header ``name``, as clean text; [] when absent or unreadable."""
    if message is None:
        return []
    try:
        found = message.get_all(name) or []
        values = [_text(value) for value in found]
    except Exception:  # noqa: BLE001 - the header parser fails on some hostile values
        return []
    return [value for value in values if value]


def _addresses(message: Message | None, name: str) -> list[str]:
    """The addr-specs in every value of header ``name``."""
    if message is None:
        return []
    try:
        headers = message.get_all(name) or []
    except Exception:  # noqa: BLE001 - the header parser fails on some hostile values
        return []
    found: list[str] = []
    for header in headers:
        # Only the address headers (From, To, ...) are parsed into addresses; for the others
        # (Delivered-To, Return-Path), or when the parser found none, the text is searched.
        addresses = getattr(header, "addresses", None)
        if addresses:
            specs = [_text(address.addr_spec) for address in addresses]
        else:
            specs = _ADDRESS_RE.findall(_text(header))
        found.extend(spec for spec in specs if spec and spec != "<>" and " " not in spec)
    return found


def _message_id(message: Message | None, name: str) -> str | None:
    value = _field(message, name)
    match = _MESSAGE_ID_RE.search(value)
    found = match[0] if match else value.split(" ")[0]
    return found[:MAX_TEXT_CHARS] or None


def _without_type(value: str) -> str:
    """``rfc822; a@b`` -> ``a@b``, ``smtp; 550 ...`` -> ``550 ...`` (RFC 3464 typed fields)."""
    kind, separator, rest = value.partition(";")
    if separator and kind and " " not in kind.strip():
        return rest.strip()
    return value


def _address_of(value: str) -> str:
    bracketed = _ANGLE_RE.search(value)
    text = bracketed[1] if bracketed else (value.split(" ")[0] if value else "")
    return text.strip().lower()[:MAX_TEXT_CHARS]


def _first(values: list[str]) -> str:
    return values[0] if values else ""


def _text(value: object) -> str:
    """Printable UTF-8 text: raw 8-bit header bytes decoded, control characters removed."""
    text = str(value)
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return " ".join(text.translate(_CONTROL_CHARACTERS).split())
