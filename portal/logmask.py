"""Keep self-service tokens out of logs and error reports.

A token in a log line is a key to the debtor's page for as long as the link lives. The filter
masks every ``/p/<token>`` in a record's message and arguments (access logs, "Not Found" and
"Too Many Requests" warnings); the exception reporter masks the URL, the request's metadata
and, with ``sensitive_variables``, the local variables of the views that hold a token.
"""

from __future__ import annotations

import copy
import logging
import re

from django.views.debug import ExceptionReporter

# A token is base64url text with ":" separators, optionally starting with "." (compressed).
_TOKEN_IN_PATH = re.compile(r"(/p/)([A-Za-z0-9_\-.:]{12,})")
_META_KEYS = ("PATH_INFO", "REQUEST_URI", "RAW_URI", "HTTP_REFERER", "QUERY_STRING", "SCRIPT_URL")
_SKIP = {"i18n", "language", "verify", "promise", "plan", "contact", "dispute", "rate", "leave"}


def _replace(match: re.Match) -> str:
    token = match.group(2)
    if token.rstrip("/") in _SKIP:
        return match.group(0)
    return f"{match.group(1)}{token[:4]}…[masked]"


def mask(text: str) -> str:
    """``/p/.eJyrVkpRsjI0MDXUUcpRsjI0MjExsDAwNDCwsDA0MtSpBQBDmQU0:1v...:abc/`` ->
    ``/p/.eJy…[masked]/``."""
    return _TOKEN_IN_PATH.sub(_replace, text)


def _mask_value(value):
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, bytes):
        try:
            return mask(value.decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001 - a value we cannot read is left as it was
            return value
    return value


class PortalTokenFilter(logging.Filter):
    """Masks portal tokens in every record it sees; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _mask_value(v) for k, v in record.args.items()}
        request = getattr(record, "request", None)
        if request is not None and _TOKEN_IN_PATH.search(getattr(request, "path", "") or ""):
            record.request = masked_request(request)
        return True


def masked_request(request):
    """A shallow copy of ``request`` whose path and metadata no longer carry the token."""
    clone = copy.copy(request)
    clone.path = mask(request.path)
    clone.path_info = mask(request.path_info)
    meta = dict(request.META)
    for key in _META_KEYS:
        if isinstance(meta.get(key), str):
            meta[key] = mask(meta[key])
    clone.META = meta
    return clone


class PortalExceptionReporter(ExceptionReporter):
    """Django's error report with the token masked in the URL, the request's metadata and the
    frames' local variables (a request's repr names its path)."""

    def __init__(self, request, *args, **kwargs):
        if request is not None:
            request = masked_request(request)
        super().__init__(request, *args, **kwargs)

    def get_traceback_data(self):
        data = super().get_traceback_data()
        for frame in data.get("frames", []):
            if "vars" in frame:
                frame["vars"] = [(name, _mask_value(value)) for name, value in frame["vars"]]
        for key in ("exception_value", "request_insecure_uri"):
            if isinstance(data.get(key), str):
                data[key] = mask(data[key])
        return data
