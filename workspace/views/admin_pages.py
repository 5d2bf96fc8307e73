"""Admins' daily screens: contact policies with a simulator, queue weights, users and roles,
holidays, reminder strategies and templates, assignment rules; and the teams, which
supervisors keep too. Rare screens stay in the Django admin."""

from __future__ import annotations

import json

import holidays as holidays_lib
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cases.assignment import (
    assignment_rule_delete,
    assignment_rule_save,
    cases_assign_apply,
)
from cases.models import AssignmentRule, QueueWeights, Team
from cases.priorities import queue_weights_save
from cases.roles import ROLES, role_names
from cases.services import collectors as active_collectors
from cases.teams import possible_leaders, team_delete, team_save, teams_for
from compliance import gate
from compliance.models import RULES_HELP, ContactPolicy
from compliance.selectors import NoPolicy
from compliance.services import policy_save
from debtors.audit import acting_as
from debtors.models import Debtor
from messaging.models import MessageTemplate
from reminders.models import ReminderStrategy
from workspace.forms import (
    AssignmentRuleForm,
    HolidayLookupForm,
    PolicyForm,
    QueueWeightsForm,
    SimulatorForm,
    TeamForm,
    UserForm,
)
from workspace.views.common import admin_required, supervisor_required


@admin_required
@require_http_methods(["GET"])
def policies(request: HttpRequest) -> HttpResponse:
    rows = ContactPolicy.objects.filter(is_current=True).order_by(
        "-is_default", "country", "region"
    )
    return render(request, "workspace/admin/policies.html", {"policies": rows})


@admin_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, slug: str) -> HttpResponse:
    policy = get_object_or_404(ContactPolicy, slug=slug, is_current=True)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                new = policy_save(actor=request.user, policy=policy, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Saved as version %(n)d of %(slug)s.") % {"n": new.version, "slug": slug},
                )
                return redirect("policy-edit", slug=slug)
    else:
        form = PolicyForm(
            initial={
                "name": policy.name,
                "is_active": policy.is_active,
                "rules": json.dumps(policy.rules, indent=2, ensure_ascii=False),
                "source": policy.source,
                "notes": policy.notes,
            }
        )
    return render(
        request,
        "workspace/admin/policy_edit.html",
        {"policy": policy, "form": form, "rules_help": RULES_HELP},
        status=400 if form.is_bound else 200,
    )


@admin_required
@require_http_methods(["GET"])
def simulator(request: HttpRequest) -> HttpResponse:
    """Pick a debtor, a channel and an instant: the gate's decision (a dry run, nothing kept)."""
    form = SimulatorForm(request.GET or None)
    decision, debtor, error = None, None, ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        debtor = Debtor.objects.filter(external_ref=data["debtor"].strip()).first()
        if debtor is None:
            form.add_error("debtor", _("No debtor has this reference."))
        else:
            try:
                decision = gate.check(debtor=debtor, channel=data["channel"], at=data["at"])
            except (ValidationError, NoPolicy, gate.GateInputError) as exc:
                error = " ".join(getattr(exc, "messages", [str(exc)]))
    return render(
        request,
        "workspace/admin/simulator.html",
        {
            "form": form,
            "decision": decision,
            "debtor": debtor,
            "error": error,
            "debtor_zone": (decision.timezones[0] if decision and decision.timezones else ""),
            "viewer_zone": timezone.get_current_timezone_name(),
            "at": form.cleaned_data.get("at") if form.is_bound and form.is_valid() else None,
        },
    )


@admin_required
@require_http_methods(["GET", "POST"])
def queue_weights(request: HttpRequest) -> HttpResponse:
    current = QueueWeights.current()
    if request.method == "POST":
        form = QueueWeightsForm(request.POST)
        if form.is_valid():
            queue_weights_save(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Weights saved; the queues are being re-ordered."))
            return redirect("queue-weights")
    else:
        form = QueueWeightsForm(initial={n: getattr(current, n) for n in current.WEIGHT_FIELDS})
    return render(request, "workspace/admin/queue_weights.html", {"form": form})


@admin_required
@require_http_methods(["GET"])
def users(request: HttpRequest) -> HttpResponse:
    rows = get_user_model().objects.prefetch_related("groups").order_by("username")
    return render(request, "workspace/admin/users.html", {"users": rows})


@admin_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    User = get_user_model()  # noqa: N806
    instance = get_object_or_404(User, pk=user_id) if user_id else None
    if request.method == "POST":
        form = UserForm(request.POST, instance=instance)
        if form.is_valid():
            user = _user_save(actor=request.user, instance=instance, **form.cleaned_data)
            messages.success(request, _("User %(name)s saved.") % {"name": user.username})
            return redirect("users")
    else:
        initial = {"is_active": True, "role": "collector"}
        if instance is not None:
            roles = role_names(instance)
            initial = {
                "username": instance.username,
                "email": instance.email,
                "is_active": instance.is_active,
                "role": next((r for r in reversed(ROLES) if r in roles), "collector"),
            }
        form = UserForm(initial=initial, instance=instance)
    return render(
        request,
        "workspace/admin/user_edit.html",
        {"form": form, "instance": instance},
        status=400 if form.is_bound else 200,
    )


@transaction.atomic
def _user_save(*, actor, instance, username, email, role, is_active, password):
    """Create or change a user and give them exactly one role."""
    User = get_user_model()  # noqa: N806
    user = instance or User(username=username)
    user.username, user.email, user.is_active = username, email, is_active
    if password:
        user.set_password(password)
    with acting_as(actor):
        user.save()
        user.groups.set([Group.objects.get(name=role)])
    return user


@admin_required
@require_http_methods(["GET"])
def holidays(request: HttpRequest) -> HttpResponse:
    """The public holidays the gate closes on (for policies with no_contact_on_holidays)."""

    year = timezone.localdate().year
    form = HolidayLookupForm(request.GET or None, initial={"country": "CN", "year": year})
    rows, error = [], ""
    if form.is_bound and form.is_valid():
        country = form.cleaned_data["country"]
        region = form.cleaned_data["region"].upper()
        subdiv = region.split("-", 1)[1] if "-" in region else (region or None)
        try:
            found = holidays_lib.country_holidays(
                country, subdiv=subdiv, years=form.cleaned_data["year"]
            )
            wanted = "zh_CN" if translation.get_language().startswith("zh") else "en_US"
            if wanted in getattr(found, "supported_languages", ()):
                found = holidays_lib.country_holidays(
                    country, subdiv=subdiv, years=form.cleaned_data["year"], language=wanted
                )
            rows = sorted(found.items())
        except NotImplementedError:
            error = _("No holiday calendar is known for %(country)s.") % {"country": country}
        except (KeyError, ValueError) as exc:
            error = str(exc)
    policies_on = [
        p
        for p in ContactPolicy.objects.filter(is_current=True, is_active=True)
        if any(isinstance(r, dict) and r.get("no_contact_on_holidays") for r in p.rules.values())
    ]
    return render(
        request,
        "workspace/admin/holidays.html",
        {"form": form, "rows": rows, "error": error, "policies_on": policies_on},
    )


@admin_required
@require_http_methods(["GET"])
def strategies(request: HttpRequest) -> HttpResponse:
    rows = ReminderStrategy.objects.prefetch_related("stages").order_by("slug")
    templates = MessageTemplate.objects.order_by("key", "channel", "language")
    return render(
        request,
        "workspace/admin/strategies.html",
        {"strategies": rows, "templates": templates, "has_preview": _has_template_preview()},
    )


def _has_template_preview() -> bool:
    try:
        reverse("template-preview", args=[1])
    except NoReverseMatch:
        return False
    return True


# --- Assignment rules -----------------------------------------------------------------------


@admin_required
@require_http_methods(["GET", "POST"])
def assignment_rules(request: HttpRequest) -> HttpResponse:
    """The ordered rules, and (POST) a supervisor's or admin's request to deal out now."""
    if request.method == "POST":
        count = cases_assign_apply(actor=request.user)
        messages.success(request, _("%(n)s cases dealt out.") % {"n": count})
        return redirect("assignment-rules")
    rules = AssignmentRule.objects.prefetch_related("collectors")
    return render(request, "workspace/admin/assignment_rules.html", {"rules": rules})


@admin_required
@require_http_methods(["GET", "POST"])
def assignment_rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    rule = get_object_or_404(AssignmentRule, pk=rule_id) if rule_id else None
    pool = active_collectors()
    if request.method == "POST" and request.POST.get("delete") and rule is not None:
        assignment_rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("Rule %(name)s deleted.") % {"name": rule.name})
        return redirect("assignment-rules")
    if request.method == "POST":
        form = AssignmentRuleForm(request.POST, collectors=pool)
        if form.is_valid():
            fields = dict(form.cleaned_data)
            collectors = fields.pop("collectors")
            try:
                saved = assignment_rule_save(
                    actor=request.user, rule=rule, collectors=collectors, **fields
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Rule %(name)s saved.") % {"name": saved.name})
                return redirect("assignment-rules")
    else:
        initial = AssignmentRuleForm.initial_of(rule) if rule else None
        form = AssignmentRuleForm(initial=initial, collectors=pool)
    return render(
        request, "workspace/admin/assignment_rule_edit.html", {"form": form, "rule": rule}
    )


# --- Teams ----------------------------------------------------------------------------------


@supervisor_required
@require_http_methods(["GET"])
def teams(request: HttpRequest) -> HttpResponse:
    """The teams, the viewer's own first, with their leaders and collectors."""
    rows = teams_for(request.user).prefetch_related("leaders", "members")
    return render(request, "workspace/admin/teams.html", {"teams": rows})


@supervisor_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int | None = None) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id) if team_id else None
    choices = {"leaders": possible_leaders(), "members": active_collectors()}
    if request.method == "POST" and request.POST.get("delete") and team is not None:
        team_delete(actor=request.user, team=team)
        messages.success(request, _("Team %(name)s deleted.") % {"name": team.name})
        return redirect("teams")
    if request.method == "POST":
        form = TeamForm(request.POST, **choices)
        if form.is_valid():
            try:
                saved = team_save(actor=request.user, team=team, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Team %(name)s saved.") % {"name": saved.name})
                return redirect("teams")
    else:
        form = TeamForm(initial=TeamForm.initial_of(team) if team else None, **choices)
    return render(
        request,
        "workspace/admin/team_edit.html",
        {"form": form, "team": team},
        status=400 if form.is_bound else 200,
    )
