"""What every message needs, whoever sends it: its template, whether the debtor's policy asks
for an opt-out sentence, and the contact point it goes to."""

from __future__ import annotations

from compliance.selectors import policy_for_debtor, policy_rules
from debtors.models import ContactPoint

from .models import MessageTemplate

# The kind of contact point each sending channel needs (in-app needs none: it is stored).
POINT_KINDS = {
    "sms": (ContactPoint.Kind.MOBILE,),
    "email": (ContactPoint.Kind.EMAIL,),
    "letter": (ContactPoint.Kind.ADDRESS,),
    "in_app": (ContactPoint.Kind.IN_APP,),
}
UNUSABLE = (ContactPoint.Status.INVALID, ContactPoint.Status.WRONG_PARTY)


def pick_contact_point(points: list[ContactPoint], channel: str) -> ContactPoint | None:
    """The debtor's own usable point for the channel: primary first, then verified, then oldest."""
    kinds = POINT_KINDS.get(channel, ())
    usable = [
        cp
        for cp in points
        if cp.kind in kinds and cp.owner == ContactPoint.Owner.SELF and cp.status not in UNUSABLE
    ]
    usable.sort(key=lambda cp: (not cp.is_primary, cp.status != ContactPoint.Status.VALID, cp.pk))
    return usable[0] if usable else None


# Read-mostly lookups, kept for one dispatcher pass (``clear_caches`` starts each pass afresh,
# so an admin's edit applies from the next pass).
_templates: dict[tuple[str, str, str], MessageTemplate | None] = {}
_opt_out_required: dict[tuple[str, str, str], bool] = {}


def clear_caches() -> None:
    _templates.clear()
    _opt_out_required.clear()


def find_template(key: str, channel: str, language: str) -> MessageTemplate | None:
    cache_key = (key, channel, language)
    if cache_key not in _templates:
        _templates[cache_key] = _find_template(key, channel, language)
    return _templates[cache_key]


def opt_out_required(debtor, channel: str) -> bool:
    """Whether the debtor's policy asks for an opt-out on ``channel`` (policies apply by
    country and region, so the answer is shared by every debtor of a place)."""
    cache_key = (debtor.country, debtor.region, channel)
    if cache_key not in _opt_out_required:
        rules = policy_rules(policy_for_debtor(debtor)).get(channel)
        _opt_out_required[cache_key] = bool(rules and rules.opt_out_required)
    return _opt_out_required[cache_key]


def _find_template(key: str, channel: str, language: str) -> MessageTemplate | None:
    templates = {t.language: t for t in MessageTemplate.objects.filter(key=key, channel=channel)}
    return templates.get(language) or templates.get("en")
