"""Who is acting: a request's user, or a named system actor for tasks and commands.

Every model a person or a worker changes keeps its history with django-simple-history. The
historical rows carry the acting user (``history_user``) and a readable ``actor_label`` that
also names system actors, for example ``system: plan_reminders``::

    with acting_as("system: seed_demo"):
        loan_create(...)

    with acting_as(request.user):
        payment_post(...)

Services take ``actor=`` and enter ``acting_as`` themselves, so callers rarely need to.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeAlias

from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

# A person (a user) or a named system actor ("system: plan_reminders").
Actor: TypeAlias = "AbstractBaseUser | str"

SYSTEM_PREFIX = "system: "

_current_actor: ContextVar[Actor | None] = ContextVar("current_actor", default=None)


# The debtor acting on their own account through the self-service portal: neither a user of
# the back office nor the system, so the label is kept as it is.
PORTAL_ACTOR = gettext_noop("debtor via portal")


def system_actor(name: str) -> str:
    """The label of a named system actor (a task, a command), or the portal's own label."""
    if name == PORTAL_ACTOR or name.startswith(SYSTEM_PREFIX):
        return name
    return f"{SYSTEM_PREFIX}{name}"


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Attribute every history row written inside the block to ``actor``.

    ``None`` keeps whatever actor is already in force (so nested services called with the
    caller's actor do not erase it).
    """
    if actor is None:
        yield
        return
    if isinstance(actor, str):
        actor = system_actor(actor)
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


def current_actor() -> Actor | None:
    return _current_actor.get()


def actor_label(actor: Actor | None) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor
    return actor.get_username()


# The system's named actors as the pages call them; the stored names are identifiers.
SYSTEM_ACTOR_NAMES = {
    "unattributed": _("unattributed"),
    "plan_reminders": _("reminder planner"),
    "promises_resolve": _("promise check"),
    "plans_review": _("plan check"),
    "nightly refresh": _("nightly refresh"),
    "import_portfolio": _("portfolio import"),
    "seed_demo": _("demo data"),
    "presets": _("presets shipped with the product"),
    "reminder": _("reminder"),
}


def actor_display(label: str) -> str:
    """A stored ``actor_label`` as the pages show it, in the active language: a user's name as
    it is; the portal, and a system actor by its name (``SYSTEM_ACTOR_NAMES``, with its number
    kept: ``system: reminder #12``, or the catalogue's words for a why such as
    ``cases.lifecycle``'s); a name known to neither is kept as it is."""
    if not label:
        return ""
    if label == PORTAL_ACTOR:
        return gettext(PORTAL_ACTOR)
    if not label.startswith(SYSTEM_PREFIX):
        return label
    name, number_sign, number = label.removeprefix(SYSTEM_PREFIX).partition(" #")
    # gettext("") would give the catalogue's header.
    shown = SYSTEM_ACTOR_NAMES.get(name) or (gettext(name) if name else name)
    return gettext("system: %(actor)s") % {"actor": f"{shown}{number_sign}{number}"}


def _history_user(request=None, instance=None, **kwargs):
    actor = _current_actor.get()
    if actor is not None:
        return None if isinstance(actor, str) else actor
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return None


class AuditedHistoricalModel(models.Model):
    """Abstract base for every historical model: adds a readable actor label."""

    actor_label = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True


def audited_history(**kwargs) -> HistoricalRecords:
    """``HistoricalRecords`` that records the acting user or system actor."""
    kwargs.setdefault("bases", [AuditedHistoricalModel])
    kwargs.setdefault("get_user", _history_user)
    return HistoricalRecords(**kwargs)


@receiver(pre_create_historical_record)
def _label_history_row(sender, history_instance, history_user=None, **kwargs) -> None:
    if not hasattr(history_instance, "actor_label"):
        return
    actor = _current_actor.get()
    if isinstance(actor, str):
        history_instance.actor_label = actor
    elif history_user is not None:
        history_instance.actor_label = history_user.get_username()
    else:
        history_instance.actor_label = system_actor("unattributed")
