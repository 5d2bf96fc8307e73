"""The contact policies shipped with the product, installed by a data migration.

Each one cites its source; ``docs/regulations.md`` summarises the rules. They are starting
points: a lender's counsel decides what applies to it, and admins edit them (each edit is a new
version).
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _hours(start: str, end: str) -> list[dict]:
    return [{"days": ALL_DAYS, "from": start, "to": end}]


US_REG_F_RULES = {
    "call": {
        "hours": _hours("08:00", "21:00"),
        "limits": [
            {"count": "attempts", "max": 7, "directions": ["outbound"], "per": "loan", "days": 7}
        ],
        "cooldowns": [
            {
                "after": "conversation",
                "days": 7,
                "per": "loan",
                "directions": ["outbound", "inbound"],
            }
        ],
        "third_parties": "after_unreachable",
        "unreachable_after_failed": 3,
    },
    "sms": {
        "hours": _hours("08:00", "21:00"),
        "consent_required": True,
        "opt_out_required": True,
        "third_parties": "never",
    },
    "email": {
        "hours": _hours("08:00", "21:00"),
        "opt_out_required": True,
        "third_parties": "never",
    },
    "in_app": {
        "hours": _hours("08:00", "21:00"),
        "opt_out_required": True,
        "third_parties": "never",
    },
    "letter": {"third_parties": "never"},
    "visit": {"hours": _hours("08:00", "21:00"), "third_parties": "never"},
}

CN_GBT_45251_RULES = {
    "call": {
        "hours": _hours("08:00", "22:00"),
        "limits": [
            {
                "count": "conversations",
                "max": 3,
                "directions": ["outbound"],
                "per": "debtor",
                "days": 1,
            },
            {
                "count": "unanswered",
                "max": 6,
                "directions": ["outbound"],
                "per": "contact_point",
                "days": 1,
            },
        ],
        "third_parties": "after_unreachable",
        "unreachable_after_failed": 3,
    },
    "sms": {"hours": _hours("08:00", "22:00"), "third_parties": "after_unreachable"},
    "email": {"hours": _hours("08:00", "22:00"), "third_parties": "never"},
    "in_app": {"hours": _hours("08:00", "22:00"), "third_parties": "never"},
    "letter": {"hours": _hours("08:00", "22:00"), "third_parties": "never"},
    "visit": {"hours": _hours("08:00", "22:00"), "third_parties": "never"},
}

DEFAULT_RULES = {
    "call": {
        "hours": _hours("08:00", "20:00"),
        "limits": [
            {"count": "attempts", "max": 2, "directions": ["outbound"], "per": "debtor", "days": 1}
        ],
        "third_parties": "never",
    },
    "sms": {
        "hours": _hours("08:00", "20:00"),
        "limits": [
            {"count": "attempts", "max": 1, "directions": ["outbound"], "per": "debtor", "days": 1}
        ],
        "opt_out_required": True,
        "third_parties": "never",
    },
    "email": {
        "hours": _hours("08:00", "20:00"),
        "opt_out_required": True,
        "third_parties": "never",
    },
    "in_app": {"hours": _hours("08:00", "20:00"), "third_parties": "never"},
    "letter": {"third_parties": "never"},
    "visit": {"hours": _hours("08:00", "20:00"), "third_parties": "never"},
}

PRESETS = [
    {
        "slug": "us-reg-f",
        "name": gettext_noop("United States: Regulation F"),
        "country": "US",
        "is_default": False,
        "rules": US_REG_F_RULES,
        "source": gettext_noop(
            "12 CFR part 1006 (Regulation F): 1006.6(b)(1)(i) inconvenient times (before 8 a.m. "
            "and after 9 p.m. local time; every possible zone when the location is uncertain); "
            "1006.14(b)(2) at most 7 calls per debt in 7 consecutive days and none within 7 days "
            "after a telephone conversation (its day being day 1), inbound calls not counted as "
            "attempts; 1006.6(e) opt-out in every email and text. 47 CFR 64.1200 (TCPA): "
            "consent for automated texts to mobiles."
        ),
    },
    {
        "slug": "cn-gbt-45251",
        "name": gettext_noop("China: GB/T 45251-2025"),
        "country": "CN",
        "is_default": False,
        "rules": CN_GBT_45251_RULES,
        "source": gettext_noop(
            "GB/T 45251-2025 (in force 2025-02-28): no collection 22:00-08:00 without an agreed "
            "time; at most 3 effective voice calls with one debtor per day; the debtor's contacts "
            "only when the debtor cannot be reached, never disclosing the debt. Banking-association "
            "guideline on personal consumer-loan collection (trial, January 2026): at most 6 "
            "unanswered call attempts to one number per day; third parties only after lost contact "
            "(invalid number or 3 consecutive failed attempts), never unrelated third parties."
        ),
    },
    {
        "slug": "default",
        "name": gettext_noop("Default"),
        "country": "",
        "is_default": True,
        "rules": DEFAULT_RULES,
        "source": gettext_noop(
            "A conservative starting point for debtors no jurisdiction policy covers: "
            "08:00-20:00 local time, 2 calls and 1 SMS a day, no third parties "
            "(in the spirit of FCA CONC 7.9, which sets no numbers)."
        ),
    },
]


def install_presets(policy_model, *, label: str = "system: presets") -> int:
    """Create each shipped policy that has no version yet; return how many were created.

    Used by the data migration (with its historical model) and after every ``migrate`` or
    ``flush`` (so a flushed database gets its presets back). Never touches an existing policy.
    """
    created = 0
    for preset in PRESETS:
        if policy_model.objects.filter(slug=preset["slug"]).exists():
            continue
        policy_model.objects.create(
            version=1, is_active=True, is_current=True, created_by_label=label, **preset
        )
        created += 1
    return created


# The shipped policies' names and sources, as the catalogue has them.
SHIPPED_TEXTS = frozenset(text for preset in PRESETS for text in (preset["name"], preset["source"]))


def shipped_text(value: str) -> str:
    """A shipped policy's name or source in the active language; an admin's own words (or a
    changed text) as written."""
    return gettext(value) if value in SHIPPED_TEXTS else value
