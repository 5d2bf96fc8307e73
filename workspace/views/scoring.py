"""The score models page (admins): every trained version side by side with its validation
metrics and calibration chart, the active one's scorecard, activation, and the band rules
that turn a score band into a reminder strategy and a queue weight."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from debtors.models import Loan
from scoring.features import FEATURES
from scoring.models import BandRule, ScoreModel
from scoring.scorecard import BANDS, Scorecard
from scoring.services import band_rule_save, score_model_activate
from scoring.tasks import score_cases as score_cases_task
from workspace.views.common import admin_required

# Versions shown side by side (the newest first).
VERSIONS_SHOWN = 4


class BandRuleForm(forms.Form):
    reminder_band = forms.ChoiceField(
        label=gettext_lazy("Reminder strategy's risk band"), choices=Loan.RiskBand.choices
    )
    priority_weight = forms.IntegerField(
        label=gettext_lazy("Queue priority weight"), min_value=-100000, max_value=100000
    )


def _scorecard_rows(model: ScoreModel) -> list[dict]:
    card = Scorecard.from_json(model.scorecard)
    return [
        {
            "label": feature.label,
            "weight": card.weight(feature.name),
            "bins": [
                {"label": label, "points": points}
                for label, points in zip(feature.bins, card.points[feature.name], strict=True)
            ],
        }
        for feature in sorted(FEATURES, key=lambda f: -card.weight(f.name))
    ]


def _charts(models: list[ScoreModel]) -> tuple[list[dict], dict]:
    """Chart cards and their data, drawn by static/js/charts.js: a calibration chart per
    version (predicted against observed, by decile) and the versions' metrics together."""
    cards, data = [], {}
    for model in models:
        key = f"calibration-v{model.version}"
        table = model.metrics.get("calibration", [])
        cards.append({"key": key, "title": _("Calibration, v%(v)s") % {"v": model.version}})
        data[key] = {
            "kind": "bar",
            "stacked": False,
            "percent": True,
            "labels": [str(row["decile"]) for row in table],
            "panels": [
                {
                    "title": "",
                    "datasets": [
                        {"label": _("Predicted"), "data": [row["predicted"] for row in table]},
                        {"label": _("Observed"), "data": [row["observed"] for row in table]},
                    ],
                }
            ],
        }
    if models:
        ordered = list(reversed(models))
        cards.insert(0, {"key": "metrics", "title": _("Validation metrics by version")})
        data["metrics"] = {
            "kind": "bar",
            "stacked": False,
            "percent": False,
            "labels": [f"v{m.version}" for m in ordered],
            "panels": [
                {
                    "title": "",
                    "datasets": [
                        {"label": "AUC", "data": [m.metrics.get("auc") for m in ordered]},
                        {"label": "KS", "data": [m.metrics.get("ks") for m in ordered]},
                        {"label": "Brier", "data": [m.metrics.get("brier") for m in ordered]},
                        {"label": "PSI", "data": [m.metrics.get("psi") for m in ordered]},
                    ],
                }
            ],
        }
    return cards, data


def _page(request: HttpRequest, band_forms: dict | None = None, status: int = 200):
    models = list(ScoreModel.objects.all()[:VERSIONS_SHOWN])
    active = ScoreModel.active()
    if active is not None and active not in models:
        models.append(active)
    cards, chart_data = _charts(models)
    rules = {rule.band: rule for rule in BandRule.objects.all()}
    bands = []
    for band, lowest in BANDS:
        form = (band_forms or {}).get(band) or BandRuleForm(
            prefix=band,
            initial={
                "reminder_band": getattr(rules.get(band), "reminder_band", "medium"),
                "priority_weight": getattr(rules.get(band), "priority_weight", 0),
            },
        )
        bands.append({"band": band, "lowest": round(lowest * 100), "form": form})
    return render(
        request,
        "workspace/admin/score_models.html",
        {
            "models": models,
            "active": active,
            "scorecard": _scorecard_rows(active) if active else [],
            "charts": cards,
            "chart_data": chart_data,
            "bands": bands,
        },
        status=status,
    )


@admin_required
@require_http_methods(["GET"])
def score_models(request: HttpRequest) -> HttpResponse:
    return _page(request)


@admin_required
@require_http_methods(["POST"])
def score_model_activate_view(request: HttpRequest, version: int) -> HttpResponse:
    model = get_object_or_404(ScoreModel, version=version)
    try:
        score_model_activate(model=model, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Score model v%(v)s is active; every open case was scored again.")
            % {"v": model.version},
        )
    return redirect("score-models")


@admin_required
@require_http_methods(["POST"])
def band_rules(request: HttpRequest) -> HttpResponse:
    forms_by_band = {band: BandRuleForm(request.POST, prefix=band) for band, _lowest in BANDS}
    if not all(form.is_valid() for form in forms_by_band.values()):
        return _page(request, band_forms=forms_by_band, status=400)
    with transaction.atomic():
        for band, form in forms_by_band.items():
            band_rule_save(band=band, actor=request.user, **form.cleaned_data)
        # The queue weights and reminder bands follow at once (in a worker).
        transaction.on_commit(score_cases_task.delay)
    messages.success(request, _("Band rules saved; the cases are being re-scored."))
    return redirect("score-models")
