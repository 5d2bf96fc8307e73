"""Reads of the compliance app: the policy that applies, histories, the ledger."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from debtors.models import Debtor

from .models import ContactAttempt, ContactDecision, ContactPolicy
from .rules import ChannelRules, parse_rules

_RULES_CACHE: dict[tuple[int, int], dict[str, ChannelRules]] = {}


class NoPolicy(LookupError):
    pass


def current_policies() -> QuerySet[ContactPolicy]:
    return ContactPolicy.objects.filter(is_current=True)


def policy_for_debtor(debtor: Debtor) -> ContactPolicy:
    """The current, active policy for the debtor's region, else country, else the default."""
    candidates = list(
        ContactPolicy.objects.filter(is_current=True, is_active=True).filter(
            Q(is_default=True) | Q(country=debtor.country, region__in=["", debtor.region])
        )
    )

    def rank(policy: ContactPolicy) -> int:
        if policy.is_default:
            return 2
        return 0 if policy.region and policy.region == debtor.region else 1

    candidates.sort(key=rank)
    if not candidates:
        raise NoPolicy(_("No active contact policy applies and there is no default policy."))
    return candidates[0]


def policy_rules(policy: ContactPolicy) -> dict[str, ChannelRules]:
    """The parsed rules of a policy version (a version never changes, so it is cached)."""
    key = (policy.pk, policy.version)
    rules = _RULES_CACHE.get(key)
    if rules is None:
        rules = parse_rules(policy.rules)
        if policy.pk is not None:
            _RULES_CACHE[key] = rules
    return rules


_VERSION_CACHE: dict[tuple[int, int], tuple[ContactPolicy, dict[str, ChannelRules]]] = {}


def policy_version(pk: int, version: int) -> tuple[ContactPolicy, dict[str, ChannelRules]]:
    """A policy version and its parsed rules. A version never changes once written, so it is
    read from the database once per process."""
    key = (pk, version)
    found = _VERSION_CACHE.get(key)
    if found is None:
        policy = ContactPolicy.objects.get(pk=pk)
        found = (policy, policy_rules(policy))
        _VERSION_CACHE[key] = found
    return found


def channel_rules_for(debtor: Debtor, channel: str) -> ChannelRules | None:
    """The rules of the policy that applies to ``debtor`` for ``channel`` (None: no policy, or
    the policy does not mention the channel)."""
    try:
        return policy_rules(policy_for_debtor(debtor)).get(channel)
    except NoPolicy:
        return None


def attempts_for_debtor(debtor_id: int) -> QuerySet[ContactAttempt]:
    """A debtor's contact attempts, newest first."""
    return ContactAttempt.objects.filter(debtor_id=debtor_id).order_by("-occurred_at", "-id")


def decisions_for_debtor(debtor_id: int) -> QuerySet[ContactDecision]:
    return ContactDecision.objects.filter(debtor_id=debtor_id).order_by("-decided_at", "-id")


def opt_out_required(debtor: Debtor, channel: str) -> bool:
    """Whether messages to this debtor on this channel must carry a way to opt out."""
    rules = policy_rules(policy_for_debtor(debtor)).get(channel)
    return bool(rules and rules.opt_out_required)
