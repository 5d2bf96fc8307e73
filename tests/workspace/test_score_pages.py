"""Scores where people see them: the admins' score models page (versions side by side,
activation, band rules), the case page, the queue's column and filter, and the API."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cases.models import Case
from scoring.models import BandRule, CaseScore, ScoreModel
from scoring.services import score_cases
from tests.factories import make_case, make_debtor, make_loan
from tests.scoring.test_scoring import make_model, varied_points

pytestmark = pytest.mark.django_db

METRICS = {
    "auc": 0.81,
    "ks": 0.49,
    "brier": 0.16,
    "psi": 0.04,
    "train_rows": 1200,
    "validation_rows": 300,
    "calibration": [
        {"decile": d, "rows": 30, "predicted": d / 10, "observed": d / 11} for d in range(1, 11)
    ],
}


@pytest.fixture
def adm(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def scored(work):
    """The collector's case scored by an active model: band E, with reasons."""
    model = make_model(base=450, points=varied_points())
    ScoreModel.objects.filter(pk=model.pk).update(metrics=METRICS)
    score_cases()
    return work


def test_the_page_shows_every_version_with_its_metrics_and_charts(adm):
    make_model(version=1, active=False)
    ScoreModel.objects.filter(version=1).update(metrics=METRICS)
    make_model(version=2, points=varied_points())
    response = adm.get(reverse("score-models"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="version-1"' in page and 'id="version-2"' in page
    assert "0.81" in page
    charts = json.loads(json.dumps(response.context["chart_data"]))
    assert {"metrics", "calibration-v1", "calibration-v2"} <= set(charts)
    assert charts["calibration-v1"]["panels"][0]["datasets"][1]["data"][0] == pytest.approx(1 / 11)
    # The active version's scorecard, costliest feature first.
    assert 'id="scorecard"' in page
    assert "Days past due" in page


def test_activating_a_version_scores_the_cases_and_is_audited(adm, admin_user, work):
    make_model(version=1, active=False)
    response = adm.post(reverse("score-model-activate", args=[1]))
    assert response.status_code == 302
    model = ScoreModel.objects.get(version=1)
    assert model.status == ScoreModel.Status.ACTIVE
    assert model.history.order_by("-history_id").first().history_user == admin_user
    assert CaseScore.objects.filter(case=work).exists()
    assert adm.post(reverse("score-model-activate", args=[99])).status_code == 404


def test_band_rules_are_saved_or_refused_with_the_field_named(adm):
    data = {}
    for band in "ABCDE":
        data[f"{band}-reminder_band"] = "medium"
        data[f"{band}-priority_weight"] = "10"
    data["C-priority_weight"] = "ten"
    data["D-reminder_band"] = "extreme"
    response = adm.post(reverse("score-band-rules"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a whole number." in page
    assert "Select a valid choice." in page
    assert BandRule.objects.get(band="C").priority_weight == 0  # nothing saved
    data["C-priority_weight"] = "-40"
    data["D-reminder_band"] = "high"
    assert adm.post(reverse("score-band-rules"), data).status_code == 302
    assert BandRule.objects.get(band="C").priority_weight == -40
    assert BandRule.objects.get(band="D").reminder_band == "high"


@pytest.mark.parametrize("role", ["collector", "supervisor"])
def test_only_admins_reach_the_page(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("score-models")).status_code == 403
    assert client.post(reverse("score-band-rules"), {}).status_code == 403


def test_the_case_page_shows_the_score_band_and_reasons(client, collector, scored):
    client.force_login(collector)
    page = client.get(reverse("case-detail", args=[scored.pk])).content.decode()
    score = CaseScore.objects.get(case=scored)
    assert 'id="case-score"' in page
    assert f"band {score.band}" in page
    assert "likely to pay within 30 days" in page
    assert score.reasons and "points" in page


def test_the_queue_has_a_band_column_and_filter(client, collector, scored):
    other = make_case(make_debtor(full_name="Unscored Person"), collector)
    make_loan(other.debtor)
    client.force_login(collector)
    band = Case.objects.get(pk=scored.pk).score_band
    page = client.get(reverse("home")).content.decode()
    assert "Band" in page and "Unscored Person" in page
    filtered = client.get(reverse("home"), {"score_band": band}).content.decode()
    assert scored.debtor.full_name in filtered and "Unscored Person" not in filtered
    assert client.get(reverse("home"), {"score_band": "Q"}).status_code in (200, 400)


def test_the_api_gives_the_score_band_and_reasons(collector, scored):
    api = APIClient()
    api.force_authenticate(collector)
    body = api.get(f"/api/v1/cases/{scored.pk}/").json()
    score = CaseScore.objects.get(case=scored)
    assert body["score"] == score.points
    assert body["score_band"] == score.band
    assert [r["feature"] for r in body["score_reasons"]] == [r["feature"] for r in score.reasons]
    assert all(r["label"].endswith("points") for r in body["score_reasons"])
    unscored = make_case(make_debtor(), collector)
    body = api.get(f"/api/v1/cases/{unscored.pk}/").json()
    assert (body["score"], body["score_band"], body["score_reasons"]) == (None, None, [])
