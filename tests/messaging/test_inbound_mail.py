"""Inbound mail: bounces, delays, complaints and replies read from real-shaped messages; VERP.

The samples in ``samples/`` follow RFC 3464 (delivery status notifications), RFC 5965 (abuse
reports) and what Postfix, Exim, Sendmail, Gmail and Exchange Online send. No database.
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messaging.inbound_mail import (
    MAX_MESSAGE_BYTES,
    VERP_LOCAL,
    MailReport,
    RecipientStatus,
    parse,
    verp_address,
    verp_key,
)

SAMPLES = Path(__file__).parent / "samples"
KINDS = {"bounce", "delay", "complaint", "reply", "unparsable"}
DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _dsn(*recipient_blocks: str, content_type: str | None = None, extra: str = "") -> bytes:
    """A small DSN around the given per-recipient blocks."""
    content_type = content_type or "multipart/report; report-type=delivery-status; boundary=b"
    blocks = "\n\n".join(recipient_blocks)
    return (
        "From: MAILER-DAEMON@relay.example.com\n"
        "To: bounces+reminder-9@mail.example.com\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Content-Type: {content_type}\n"
        f"{extra}"
        "\n"
        "--b\n"
        "Content-Type: text/plain\n\n"
        "It did not work.\n"
        "--b\n"
        "Content-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; relay.example.com\n\n"
        f"{blocks}\n"
        "--b--\n"
    ).encode()


def _assert_clean(report: MailReport) -> None:
    """Every string of a report can be stored: UTF-8, no control characters."""
    texts = [report.kind, report.sender, report.subject]
    texts += [report.message_key or "", report.complaint_address or ""]
    texts += [report.feedback_type or "", report.original_message_id or ""]
    for recipient in report.recipients:
        texts += [recipient.address, recipient.action, recipient.status, recipient.diagnostic]
    for text in texts:
        text.encode("utf-8")
        assert not re.search(r"[\x00-\x1f\x7f]", text), text
        assert len(text) <= 1000
    assert report.kind in KINDS


# The samples -----------------------------------------------------------------------------------

EXPECTED = {
    # name: (kind, message_key, original_message_id, sender)
    "postfix_user_unknown.eml": (
        "bounce",
        "reminder-1042",
        "<reminder-1042@example.com>",
        "mailer-daemon@relay.example.com",
    ),
    "gmail_account_disabled.eml": (
        "bounce",
        "reminder-2077",
        "<reminder-2077@example.com>",
        "mailer-daemon@googlemail.com",
    ),
    "exim_policy_rejection.eml": (
        "bounce",
        "reminder-3301",
        "<reminder-3301@example.com>",
        "mailer-daemon@mx1.relay.example.org",
    ),
    "postfix_delayed.eml": (
        "delay",
        "reminder-1100",
        "<reminder-1100@example.com>",
        "mailer-daemon@relay.example.com",
    ),
    "sendmail_two_recipients.eml": (
        "bounce",
        "reminder-5120",
        "<reminder-5120@example.com>",
        "mailer-daemon@mta.example.com",
    ),
    "outlook_verp_recipient_not_found.eml": (
        "bounce",
        "desk-77",
        "<desk-77@example.com>",
        "postmaster@outlook.com",
    ),
    "no_verp_final_recipient_only.eml": (
        "bounce",
        None,
        None,
        "mailer-daemon@mx.oldhost.example.net",
    ),
    "arf_abuse_report.eml": (
        "complaint",
        "reminder-4411",
        "<reminder-4411@example.com>",
        "fbl@feedback.mailprovider.example",
    ),
    "human_reply.eml": (
        "reply",
        None,
        "<reminder-1042@example.com>",
        "jane.debtor@mailprovider.example",
    ),
    "truncated_bounce.eml": (
        "unparsable",
        "reminder-6001",
        None,
        "mailer-daemon@relay.example.com",
    ),
}


def test_every_sample_has_an_expectation():
    assert sorted(path.name for path in SAMPLES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_is_classified_and_traced_to_its_message(name):
    kind, message_key, original_message_id, sender = EXPECTED[name]
    report = parse(_sample(name))
    assert (report.kind, report.message_key) == (kind, message_key)
    assert (report.original_message_id, report.sender) == (original_message_id, sender)
    _assert_clean(report)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_crlf_line_endings_read_the_same(name):
    raw = _sample(name)
    assert b"\r\n" not in raw  # the samples are stored with LF, so the comparison means something
    assert parse(raw.replace(b"\n", b"\r\n")) == parse(raw)


def test_postfix_user_unknown():
    report = parse(_sample("postfix_user_unknown.eml"))
    assert report.recipients == (
        RecipientStatus(
            address="j.doe@debtor-mail.example.net",
            action="failed",
            status="5.1.1",
            diagnostic="550 5.1.1 <j.doe@debtor-mail.example.net>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
            permanent=True,
            temporary=False,
        ),
    )
    assert report.subject == "Undelivered Mail Returned to Sender"
    assert report.complaint_address is None and report.feedback_type is None


def test_gmail_disabled_account_keeps_its_status_and_unfolds_the_diagnostic():
    (recipient,) = parse(_sample("gmail_account_disabled.eml")).recipients
    assert (recipient.address, recipient.status, recipient.permanent) == (
        "maria.lopez@gmail.com",
        "5.2.1",
        True,
    )
    assert recipient.diagnostic.startswith("550-5.2.1 The email account that you tried to reach is")
    assert "\n" not in recipient.diagnostic and "  " not in recipient.diagnostic


def test_exim_generic_status_is_made_precise_by_the_diagnostic():
    (recipient,) = parse(_sample("exim_policy_rejection.eml")).recipients
    assert b"Status: 5.0.0" in _sample("exim_policy_rejection.eml")
    assert (recipient.status, recipient.action, recipient.permanent) == ("5.7.1", "failed", True)
    assert recipient.diagnostic == "550 5.7.1 Message rejected due to local policy (spam content)"


def test_a_delay_is_temporary_and_not_a_bounce():
    report = parse(_sample("postfix_delayed.eml"))
    assert report.recipients == (
        RecipientStatus(
            address="t.nguyen@slowmail.example.org",
            action="delayed",
            status="4.4.1",
            diagnostic="connect to mx.slowmail.example.org[203.0.113.80]:25: Connection timed out",
            permanent=False,
            temporary=True,
        ),
    )


def test_two_recipients_one_failed_one_delayed_is_a_bounce_with_both():
    report = parse(_sample("sendmail_two_recipients.eml"))
    assert [
        (r.address, r.action, r.status, r.permanent, r.temporary) for r in report.recipients
    ] == [
        ("k.schmidt@debtor.example.de", "failed", "5.1.1", True, False),
        ("guarantor@slow.example.de", "delayed", "4.4.1", False, True),
    ]
    # Sent before VERP: the key comes from the X-Message-Key of the returned headers.
    assert report.message_key == "reminder-5120"


def test_verp_in_a_display_name_address_with_another_case_is_found():
    report = parse(_sample("outlook_verp_recipient_not_found.eml"))
    assert report.message_key == "desk-77"
    (recipient,) = report.recipients
    assert (recipient.address, recipient.status) == ("ahmed.k@outlook.com", "5.1.10")


def test_a_bounce_without_verp_still_names_the_recipient():
    report = parse(_sample("no_verp_final_recipient_only.eml"))
    assert report.message_key is None
    assert report.recipients == (
        RecipientStatus(
            address="olga.petrova@oldhost.example.net",
            action="failed",
            status="5.1.1",
            diagnostic="bad destination mailbox address",
            permanent=True,
            temporary=False,
        ),
    )


def test_abuse_report():
    report = parse(_sample("arf_abuse_report.eml"))
    assert report.feedback_type == "abuse"
    assert report.complaint_address == "sam.taylor@mailprovider.example"
    assert report.recipients == ()
    assert report.subject == "FW: Your instalment is due"


def test_abuse_report_without_original_rcpt_to_names_the_original_recipient():
    raw = _sample("arf_abuse_report.eml").replace(
        b"Original-Rcpt-To: <Sam.Taylor@mailprovider.example>\n", b""
    )
    assert raw != _sample("arf_abuse_report.eml")
    assert parse(raw).complaint_address == "sam.taylor@mailprovider.example"


def test_abuse_report_key_sources_in_order():
    raw = _sample("arf_abuse_report.eml")
    return_path = b"Return-Path: <bounces+reminder-4411@mail.example.com>\n"
    mail_from = b"Original-Mail-From: <bounces+reminder-4411@mail.example.com>\n"
    assert return_path in raw and mail_from in raw

    raw = raw.replace(return_path, b"Return-Path: <bounces+from-return-path@mail.example.com>\n")
    raw = raw.replace(mail_from, b"Original-Mail-From: <bounces+from-mail-from@mail.example.com>\n")
    raw = raw.replace(b"X-Message-Key: reminder-4411", b"X-Message-Key: from-header")
    assert parse(raw).message_key == "from-return-path"
    raw = raw.replace(b"Return-Path: <bounces+from-return-path@mail.example.com>\n", b"")
    assert parse(raw).message_key == "from-mail-from"
    raw = raw.replace(b"Original-Mail-From: <bounces+from-mail-from@mail.example.com>\n", b"")
    assert parse(raw).message_key == "from-header"
    raw = raw.replace(b"X-Message-Key: from-header\n", b"")
    assert parse(raw).message_key is None


def test_an_abuse_report_without_its_feedback_part_is_unparsable():
    raw = _sample("arf_abuse_report.eml").replace(
        b"Content-Type: message/feedback-report", b"Content-Type: text/plain"
    )
    report = parse(raw)
    assert report.kind == "unparsable"
    assert report.message_key == "reminder-4411"


def test_a_human_reply():
    report = parse(_sample("human_reply.eml"))
    assert report.subject == "Re: Your instalment is due – I paid yesterday"
    assert report.recipients == ()


def test_a_truncated_bounce_is_unparsable_but_says_what_it_can():
    report = parse(_sample("truncated_bounce.eml"))
    assert report.recipients == ()
    assert report.subject == "Undelivered Mail Returned to Sender"


# Variations of real DSNs -----------------------------------------------------------------------


def test_the_envelope_recipient_comes_before_the_original_headers():
    raw = _dsn(
        "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1",
        extra="Delivered-To: bounces+from-envelope@mail.example.com\n",
    ).replace(b"To: bounces+reminder-9@mail.example.com\n", b"To: collections@example.com\n")
    raw = raw.replace(
        b"--b--",
        b"--b\nContent-Type: text/rfc822-headers\n\n"
        b"Return-Path: <bounces+from-original@mail.example.com>\nX-Message-Key: from-header\n\n"
        b"--b--",
    )
    assert parse(raw).message_key == "from-envelope"
    assert parse(raw.replace(b"Delivered-To", b"X-Other")).message_key == "from-original"


@pytest.mark.parametrize(
    "status, action",
    [("5.1.1", "failed"), ("4.2.2", "delayed"), ("2.0.0", "delivered")],
)
def test_a_missing_action_is_derived_from_the_status_class(status, action):
    report = parse(_dsn(f"Final-Recipient: rfc822; a@example.net\nStatus: {status}"))
    (recipient,) = report.recipients
    assert (recipient.action, recipient.status) == (action, status)


def test_original_recipient_stands_in_for_a_missing_final_recipient():
    report = parse(
        _dsn("Original-Recipient: rfc822;<Who@Example.NET>\nAction: failed\nStatus: 5.1.1")
    )
    assert report.recipients[0].address == "who@example.net"


def test_field_names_in_any_case_and_folded_values():
    report = parse(
        _dsn(
            "final-recipient: RFC822;\n  Mixed.Case@Example.net\nACTION: Failed\n"
            "status: 5.1.1\n (bad destination mailbox address)\n"
            "diagnostic-code: SMTP; 550 5.1.1 user\n\tunknown"
        )
    )
    assert report.recipients == (
        RecipientStatus(
            address="mixed.case@example.net",
            action="failed",
            status="5.1.1",
            diagnostic="550 5.1.1 user unknown",
            permanent=True,
            temporary=False,
        ),
    )


@pytest.mark.parametrize(
    "fields, status",
    [
        ("Action: failed\nDiagnostic-Code: smtp; 550 5.1.1 user unknown", "5.1.1"),
        ("Action: failed\nDiagnostic-Code: smtp; 550 user unknown", "5.0.0"),
        ("Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.7.1 blocked", "5.1.1"),
        ("Status: 5.0.0\nDiagnostic-Code: smtp; 451 4.7.1 try later", "5.0.0"),
        ("Status: 550", "5.0.0"),
        ("Action: failed", ""),
    ],
)
def test_the_status_when_the_status_field_is_missing_or_vague(fields, status):
    (recipient,) = parse(_dsn(f"Final-Recipient: rfc822; a@example.net\n{fields}")).recipients
    assert recipient.status == status
    assert recipient.action == "failed"


def test_a_failed_recipient_with_a_temporary_status_is_a_bounce_of_a_good_address():
    # Postfix gives up after the queue lifetime with the last temporary status.
    report = parse(_dsn("Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 4.4.7"))
    assert report.kind == "bounce"
    assert (report.recipients[0].permanent, report.recipients[0].temporary) == (False, True)


def test_a_dsn_of_successful_delivery_is_a_reply_with_its_recipients():
    report = parse(_dsn("Final-Recipient: rfc822; a@example.net\nAction: relayed\nStatus: 2.0.0"))
    assert report.kind == "reply"
    assert [r.action for r in report.recipients] == ["relayed"]


def test_a_report_without_report_type_but_with_delivery_status_is_a_dsn():
    raw = _dsn(
        "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1",
        content_type="multipart/report; boundary=b",
    )
    assert parse(raw).kind == "bounce"


def test_report_type_in_another_case_and_folded():
    raw = _dsn(
        "Final-Recipient: rfc822; a@example.net\nAction: delayed\nStatus: 4.4.1",
        content_type='Multipart/Report;\n\tboundary="b";\n\tReport-Type=Delivery-Status',
    )
    assert parse(raw).kind == "delay"


def test_a_dsn_without_its_delivery_status_part_is_unparsable():
    raw = _dsn("Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1")
    raw = raw.replace(b"Content-Type: message/delivery-status", b"Content-Type: text/plain")
    report = parse(raw)
    assert (report.kind, report.message_key) == ("unparsable", "reminder-9")


def test_a_delivery_status_the_email_package_leaves_as_text_is_split_here():
    blocks = "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1"
    as_message = parse(_dsn(blocks))
    as_text = parse(_dsn(blocks).replace(b"message/delivery-status", b"text/delivery-status"))
    assert as_text == as_message
    assert as_text.recipients[0].status == "5.1.1"


def test_a_base64_global_delivery_status_and_original():
    status = (
        b"Reporting-MTA: dns; x\n\nFinal-Recipient: utf-8; J\xc3\xb6rg@example.de\nStatus: 5.1.1\n"
    )
    original = b"Message-ID: <reminder-8@example.com>\nX-Message-Key: reminder-8\n\nHallo"
    raw = (
        b"From: MAILER-DAEMON@relay.example.com\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
        b"--b\nContent-Type: message/global-delivery-status\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(status)
        + b"--b\nContent-Type: message/global\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(original)
        + b"--b--\n"
    )
    report = parse(raw)
    assert (report.kind, report.message_key) == ("bounce", "reminder-8")
    assert report.original_message_id == "<reminder-8@example.com>"
    assert report.recipients[0].address == "jörg@example.de"


def test_a_forwarded_bounce_is_a_reply():
    raw = (
        b"From: colleague@example.com\nTo: collections@example.com\nSubject: Fwd: bounce\n"
        b"Content-Type: multipart/mixed; boundary=outer\n\n"
        b"--outer\nContent-Type: text/plain\n\nSee attached.\n"
        b"--outer\nContent-Type: message/rfc822\n\n"
        + _sample("postfix_user_unknown.eml")
        + b"\n--outer--\n"
    )
    report = parse(raw)
    assert (report.kind, report.recipients, report.message_key) == ("reply", (), None)


def test_an_auto_reply_to_the_return_path_carries_the_key():
    raw = (
        b"From: Jane <jane@example.net>\nTo: bounces+reminder-3@mail.example.com\n"
        b"Auto-Submitted: auto-replied\nSubject: Out of office\n\nBack on Monday."
    )
    report = parse(raw)
    assert (report.kind, report.message_key) == ("reply", "reminder-3")


# VERP ------------------------------------------------------------------------------------------


def test_verp_address_of_a_plain_key():
    assert verp_address("desk-123", "mail.example.com") == "bounces+desk-123@mail.example.com"
    assert VERP_LOCAL == "bounces"


ODD_KEYS = [
    "reminder-1",
    "a.b_c-d",
    "with space",
    "slash/and+plus",
    "=already=2E",
    "ümlaut",
    "emoji-😀",
    "trailing.",
    "double..dot",
    ".leading",
    "a@b",
    "<angle>",
    'quote"d',
    "semi;colon,comma",
]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_verp_round_trip_and_a_plain_dot_atom(key):
    address = verp_address(key, "mail.example.com")
    local, _, domain = address.rpartition("@")
    assert domain == "mail.example.com"
    assert DOT_ATOM.fullmatch(local), local
    assert address.isascii()
    assert verp_key(address) == key
    assert verp_key(f"Bounce Handler <{address}>") == key


@settings(max_examples=300, deadline=None)
@given(
    key=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1)
    .map(lambda text: text.encode()[:18].decode("utf-8", "ignore"))
    .filter(bool)
)
def test_verp_round_trip_of_any_key_of_up_to_18_bytes(key):
    # Each byte takes at most three characters ("=XX"): 18 bytes always fit in 64.
    address = verp_address(key, "mail.example.com")
    assert DOT_ATOM.fullmatch(address.rpartition("@")[0])
    assert verp_key(address) == key


@pytest.mark.parametrize(
    "address",
    [
        "bounces+desk-123@mail.example.com",
        "BOUNCES+desk-123@MAIL.EXAMPLE.COM",
        "Bounces+desk-123@mail.example.com",
        "<bounces+desk-123@mail.example.com>",
        "  <bounces+desk-123@mail.example.com>  ",
        '"Collections, bounces" <bounces+desk-123@mail.example.com>',
        "bounces+desk-123@mail.example.com (Bounce handler)",
        "rfc822; bounces+desk-123@mail.example.com",
    ],
)
def test_verp_key_is_tolerant(address):
    assert verp_key(address) == "desk-123"


def test_verp_key_reads_lower_case_escapes():
    assert verp_key("bounces+a=2fb@mail.example.com") == "a/b"


@pytest.mark.parametrize(
    "address",
    [
        "collections@example.com",
        "xbounces+desk-1@mail.example.com",
        "bounces-desk-1@mail.example.com",
        "bounces+@mail.example.com",
        "bounces+desk-1",
        "bounces+desk-1@",
        "bounces+desk=ZZ1@mail.example.com",
        "bounces+desk+1@mail.example.com",
        "bounces+=FF@mail.example.com",
        "bounces+=00@mail.example.com",
        '"bounces+desk-1@mail.example.com" <collections@example.com>',
        f"bounces+{'x' * 201}@mail.example.com",
        "",
        None,
        12,
    ],
)
def test_verp_key_refuses_what_is_not_ours(address):
    assert verp_key(address) is None


@pytest.mark.parametrize(
    "key, domain",
    [
        ("", "mail.example.com"),
        ("a\x00b", "mail.example.com"),
        ("line\nbreak", "mail.example.com"),
        ("desk-1", ""),
        ("desk-1", "mail example.com"),
        ("desk-1", "a@mail.example.com"),
        ("desk-1", "mail.example.com."),
        ("x" * 57, "mail.example.com"),
        ("/" * 19, "mail.example.com"),
    ],
)
def test_verp_address_refuses_what_would_not_come_back(key, domain):
    with pytest.raises(ValueError):
        verp_address(key, domain)


def test_the_longest_key_that_fits_the_local_part():
    address = verp_address("x" * 56, "mail.example.com")
    assert len(address.rpartition("@")[0]) == 64
    assert verp_key(address) == "x" * 56


# Hostile input ---------------------------------------------------------------------------------

MEGABYTE = 1_000_000
HOSTILE = {
    "empty": b"",
    "whitespace": b"  \r\n\r\n ",
    "nul bytes": b"\x00" * 1000,
    "nul in headers": b"From: a\x00@example.net\r\nSubject: \x00\x00\r\nTo: \x00\r\n\r\n\x00",
    "no headers": b"\x01\x02\x03 garbage without a colon\n\nmore",
    "latin-1 headers": "Subject: Zahlung für\r\nFrom: J\xf6rg <j@example.de>\r\n\r\nx".encode(
        "latin-1"
    ),
    "bad encoded words": b"Subject: =?x-unknown?q?a=FF?= =?utf-8?b?////?=\r\nFrom: a@b.c\r\n\r\n",
    "unknown body charset": b"From: a@b.c\r\nContent-Type: text/plain; charset=x-nope\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64",
    "megabyte subject": b"From: a@b.c\r\nSubject: " + b"ab " * (MEGABYTE // 3) + b"\r\n\r\n",
    "megabyte to list": b"From: a@b.c\r\nTo: " + b"a@b.c, " * (MEGABYTE // 7) + b"\r\n\r\n",
    "megabyte parentheses": b"From: "
    + b"(" * (MEGABYTE // 2)
    + b")" * (MEGABYTE // 2)
    + b"\r\n\r\n",
    "megabyte encoded words": b"From: " + b"=?utf-8?q?a?= " * (MEGABYTE // 14) + b"<a@b.c>\r\n\r\n",
    "megabyte of headers": b"".join(b"X-H%d: v\r\n" % i for i in range(MEGABYTE // 12)),
    "megabyte final recipient": _dsn(
        "Final-Recipient: rfc822; " + "a" * MEGABYTE + "@b.c\nAction: failed\nStatus: 5.1.1"
    ),
    "megabyte of recipients": _dsn(
        *["Final-Recipient: rfc822; a@b.c\nStatus: 5.1.1"] * (MEGABYTE // 48)
    ),
    "beyond the limit": b"From: a@b.c\r\nSubject: big\r\n\r\n" + b"x" * (MAX_MESSAGE_BYTES + 10),
    "deep nesting": b"From: a@b.c\r\n"
    + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(3000)
    ),
    "boundary missing": b"From: a@b.c\r\nContent-Type: multipart/report; "
    b"report-type=delivery-status\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n",
    "report with garbage parts": b"Content-Type: multipart/report; report-type=feedback-report;"
    b" boundary=b\r\n\r\n--b\r\nContent-Type: message/feedback-report\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n\xff\xfe\x00\r\n--b\r\n"
    b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n====\r\n--b--",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_reported_never_raised_and_quickly(name):
    started = time.perf_counter()
    report = parse(HOSTILE[name])
    # Generous: these take well under a second; without the header limit, minutes.
    assert time.perf_counter() - started < 5
    _assert_clean(report)


def test_empty_and_headerless_input_is_unparsable():
    for name in ("empty", "whitespace", "nul bytes", "no headers"):
        assert parse(HOSTILE[name]) == MailReport(kind="unparsable"), name


def test_raw_eight_bit_headers_are_read_as_utf8_or_replaced():
    assert parse(_sample("sendmail_two_recipients.eml")).kind == "bounce"
    assert parse(HOSTILE["latin-1 headers"]).subject == "Zahlung f\ufffdr"
    assert parse("Subject: Zahlung für\r\n\r\n".encode()).subject == "Zahlung für"


def test_long_header_values_are_cut_not_refused():
    report = parse(HOSTILE["megabyte subject"])
    assert report.kind == "reply"
    assert report.subject.startswith("ab ab") and len(report.subject) == 1000


def test_bytes_like_input_and_wrong_types():
    raw = _sample("postfix_user_unknown.eml")
    assert parse(bytearray(raw)) == parse(memoryview(raw)) == parse(raw)
    assert parse(raw.decode()).kind == "unparsable"
    assert parse(None).kind == "unparsable"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_cut_of_every_sample_is_read_without_raising(name):
    raw = _sample(name)
    for end in range(0, len(raw), 41):
        _assert_clean(parse(raw[:end]))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw):
    _assert_clean(parse(raw))


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), junk=st.binary(min_size=1, max_size=40))
def test_junk_spliced_into_a_bounce_never_raises(position, junk):
    raw = _sample("postfix_user_unknown.eml")
    position %= len(raw)
    _assert_clean(parse(raw[:position] + junk + raw[position:]))
