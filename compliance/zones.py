"""Which time zones a debtor may be in.

In order: the debtor's explicit zone; otherwise every zone the debtor's own phone numbers
(``phonenumbers.timezone``) and postal addresses (their zone, or their country when it has a
single zone) suggest; otherwise every zone of the debtor's country. The country-to-zones map
comes from the ``zone.tab`` file of the ``tzdata`` package, so no network is needed.

An unknown zone name is a validation error, never a silent UTC.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumbers import timezone as phone_timezone

from debtors.validators import iana_timezones


@lru_cache(maxsize=1)
def _country_zone_map() -> dict[str, tuple[str, ...]]:
    zones: dict[str, list[str]] = defaultdict(list)
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            zones[fields[0]].append(fields[2])
    return {country: tuple(sorted(names)) for country, names in zones.items()}


def country_zones(country: str) -> tuple[str, ...]:
    """Every zone of a country (ISO 3166 alpha-2), e.g. ``CN`` -> ``("Asia/Shanghai", "Asia/Urumqi")``."""
    return _country_zone_map().get((country or "").upper(), ())


@lru_cache(maxsize=65536)
def phone_zones(number: str) -> tuple[str, ...]:
    """The zones a phone number (E.164) may ring in; empty when unknown."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    known = iana_timezones()
    return tuple(sorted(z for z in phone_timezone.time_zones_for_number(parsed) if z in known))


@lru_cache(maxsize=1024)
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The ``ZoneInfo`` for an IANA name; a ``ValidationError`` for an unknown one."""
    if name not in iana_timezones():
        raise ValidationError(
            _("Unknown time zone %(zone)s (expected an IANA name such as Asia/Shanghai).")
            % {"zone": name},
            code="unknown_timezone",
        )
    return zoneinfo.ZoneInfo(name)


def candidate_zones(debtor, contact_points: Iterable, contact_point=None) -> list[str]:
    """The zones a contact must suit, sorted.

    ``contact_points`` are the debtor's contact points; only the debtor's own say where the
    debtor is. The contact point being used adds its own zones (the person it reaches).
    """
    if debtor.timezone:
        zone(debtor.timezone)
        return [debtor.timezone]
    found: set[str] = set()
    points = [cp for cp in contact_points if cp.owner == "self"]
    if contact_point is not None and all(cp.pk != contact_point.pk for cp in points):
        points.append(contact_point)
    for cp in points:
        if cp.kind in ("mobile", "landline"):
            found.update(phone_zones(cp.value))
        elif cp.kind == "address":
            if cp.timezone:
                zone(cp.timezone)
                found.add(cp.timezone)
            elif cp.country and len(country_zones(cp.country)) == 1:
                found.update(country_zones(cp.country))
    if not found:
        found.update(country_zones(debtor.country))
    if not found:
        raise ValidationError(
            _("No time zone is known for debtor %(debtor)s: set one explicitly.")
            % {"debtor": debtor.pk},
            code="no_timezone",
        )
    return sorted(found)
