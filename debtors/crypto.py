"""Personal data encrypted at rest: national ids.

``FIELD_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated: the first encrypts,
every one decrypts, so a key is rotated by putting a new one first and running
``manage.py rotate_field_keys`` (every value encrypted again with the new key) before the old
one is dropped. Outside production a development key is used; production requires its own.

An encrypted value cannot be searched, so each one has a blind index beside it: an HMAC of the
normalised value under a key derived from the first Fernet key (``rotate_field_keys``
recomputes it). Exact search compares indexes; nothing else about the value can be learnt
from it without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models

# Every Fernet token begins so (its version byte and a timestamp).
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - a format marker, not a secret


@lru_cache(maxsize=4)
def _keys(setting: str) -> tuple[MultiFernet, bytes]:
    raw = [key.strip() for key in setting.split(",") if key.strip()]
    if not raw:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must hold at least one Fernet key.")
    try:
        fernets = [Fernet(key) for key in raw]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes each), "
            'comma-separated; make one with: python -c "from cryptography.fernet import '
            'Fernet; print(Fernet.generate_key().decode())"'
        ) from exc
    index_key = hmac.new(
        base64.urlsafe_b64decode(raw[0]), b"blind index of national ids", hashlib.sha256
    ).digest()
    return MultiFernet(fernets), index_key


def _current() -> tuple[MultiFernet, bytes]:
    return _keys(settings.FIELD_ENCRYPTION_KEY)


def encrypt(value: str) -> str:
    return _current()[0].encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current()[0].decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise ValueError(
            "A stored value cannot be decrypted with FIELD_ENCRYPTION_KEY (a key is missing "
            "from the setting?)."
        ) from exc


def rotate(token: str) -> str:
    """The same value encrypted with the first key."""
    return _current()[0].rotate(token.encode("ascii")).decode("ascii")


def normalized(value: str) -> str:
    """What two spellings of one id share: no spaces or dashes, upper case."""
    return "".join(value.split()).replace("-", "").upper()


def blind_index(value: str) -> str:
    """The search key of ``value`` ("" for no value)."""
    if not value:
        return ""
    return hmac.new(_current()[1], normalized(value).encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token and read back as text. "" stays "" (no value). It can
    be neither searched nor ordered: search its blind index."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)


@checks.register(checks.Tags.security)
def check_field_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check`` (and every start) names a FIELD_ENCRYPTION_KEY that cannot be
    used, before a national id is written with it."""
    try:
        _keys(settings.FIELD_ENCRYPTION_KEY)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="debtors.E001")]
    return []
