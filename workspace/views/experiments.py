"""Champion/challenger experiments (supervisors): the list, a new experiment with its arms,
and an experiment's page: each arm's metrics with 95% intervals, each challenger's difference
from the champion with an always-valid test, cumulative recovery per arm over time, and the
start, stop and promote buttons."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from scoring.experiments import arm_promote, experiment_create, experiment_start, experiment_stop
from scoring.models import Arm, Experiment
from scoring.results import HIGHER_IS_BETTER, METRICS, experiment_results
from workspace.forms import ArmForm, ExperimentForm
from workspace.views.common import supervisor_required

ARM_FORMS = (
    ("champion", Arm.Kind.CHAMPION, True),
    ("challenger", Arm.Kind.CHALLENGER, True),
    ("holdout", Arm.Kind.HOLDOUT, False),
)


@supervisor_required
@require_http_methods(["GET"])
def experiments(request: HttpRequest) -> HttpResponse:
    rows = Experiment.objects.prefetch_related("arms").order_by("-id")
    return render(request, "workspace/experiments.html", {"experiments": rows})


def _arm_forms(data=None) -> list[tuple[str, str, bool, ArmForm]]:
    forms = []
    for prefix, kind, required in ARM_FORMS:
        # The optional hold-out starts blank: left blank, it is no arm at all.
        initial = {"name": Arm.Kind(kind).label, "queue_weight": 0} if required else {}
        form = ArmForm(
            data,
            prefix=prefix,
            initial=initial,
            empty_permitted=not required,
            use_required_attribute=required,
        )
        forms.append((prefix, kind, required, form))
    return forms


@supervisor_required
@require_http_methods(["GET", "POST"])
def experiment_new(request: HttpRequest) -> HttpResponse:
    form = ExperimentForm(request.POST or None)
    arm_forms = _arm_forms(request.POST or None)
    if request.method == "POST":
        valid = form.is_valid() & all(f.is_valid() for *_x, f in arm_forms)
        if valid:
            arms = [
                {**f.cleaned_data, "kind": kind}
                for _prefix, kind, required, f in arm_forms
                if required or f.has_changed()
            ]
            try:
                experiment = experiment_create(actor=request.user, arms=arms, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, _("Experiment saved as a draft."))
                return redirect("experiment-detail", experiment_id=experiment.pk)
    return render(
        request,
        "workspace/experiment_new.html",
        {"form": form, "arm_forms": arm_forms},
        status=400 if form.is_bound else 200,
    )


def _chart(series: dict, arms: list[Arm]) -> dict:
    """Cumulative recovery per arm with its 95% interval as a band (static/js/charts.js)."""
    datasets = []
    for arm in arms:
        points = series["arms"].get(arm.pk, [])
        datasets.append(
            {"label": arm.name, "data": [round(p.value, 4) for p in points], "arm": arm.pk}
        )
        datasets.append(
            {
                "label": _("%(arm)s, 95%% interval") % {"arm": arm.name},
                "data": [round(max(p.low, 0.0), 4) for p in points],
                "band_of": arm.pk,
            }
        )
        datasets.append(
            {
                "label": "",
                "data": [round(min(p.high, 1.0), 4) for p in points],
                "band_of": arm.pk,
                "band_top": True,
            }
        )
    return {
        "recovery": {
            "kind": "line",
            "stacked": False,
            "percent": True,
            "labels": [day.isoformat() for day in series["days"]],
            "panels": [{"title": "", "datasets": datasets}],
        }
    }


def _detail_page(request: HttpRequest, experiment: Experiment, *, status: int = 200):
    results = experiment_results(experiment, now=timezone.now())
    arms = [r.arm for r in results["arms"]]
    labels = dict(Experiment.Metric.choices)
    rows = [
        {
            "arm": r.arm,
            "cases": r.cases,
            "metrics": [(metric, labels[metric], r.metrics[metric]) for metric in METRICS],
            "comparisons": [
                (metric, labels[metric], r.comparisons[metric], metric in HIGHER_IS_BETTER)
                for metric in METRICS
                if metric in r.comparisons
            ],
        }
        for r in results["arms"]
    ]
    return render(
        request,
        "workspace/experiment.html",
        {
            "experiment": experiment,
            "rows": rows,
            "chart_data": _chart(results["series"], arms),
            "champion": results["champion"],
            "primary_label": labels[experiment.primary_metric],
        },
        status=status,
    )


@supervisor_required
@require_http_methods(["GET"])
def experiment_detail(request: HttpRequest, experiment_id: int) -> HttpResponse:
    return _detail_page(request, get_object_or_404(Experiment, pk=experiment_id))


@supervisor_required
@require_http_methods(["POST"])
def experiment_action(request: HttpRequest, experiment_id: int, action: str) -> HttpResponse:
    experiment = get_object_or_404(Experiment, pk=experiment_id)
    if action not in ("start", "stop", "promote"):
        raise Http404
    try:
        if action == "start":
            entered = experiment_start(experiment=experiment, actor=request.user)
            messages.success(
                request, _("The experiment is running; %(n)s cases entered.") % {"n": entered}
            )
        elif action == "stop":
            experiment_stop(experiment=experiment, actor=request.user)
            messages.success(request, _("The experiment is stopped."))
        else:
            arm_id = request.POST.get("arm", "")
            arm = get_object_or_404(
                Arm, pk=int(arm_id) if arm_id.isdigit() else 0, experiment=experiment
            )
            arm_promote(arm=arm, actor=request.user)
            messages.success(
                request, _("%(arm)s is the champion for new entrants.") % {"arm": arm.name}
            )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _detail_page(request, experiment, status=400)
    return redirect("experiment-detail", experiment_id=experiment.pk)
