"""The experiment pages (supervisors): a new experiment and its arms, its page with metrics,
comparisons and the recovery chart, and start, stop and promote."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from reminders.models import ReminderStrategy
from scoring.models import Arm, ArmAssignment, Experiment
from tests.factories import make_debtor, make_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def sup(client, supervisor):
    client.force_login(supervisor)
    return client


def _form(**changes) -> dict:
    today = timezone.localdate()
    data = {
        "name": "Firm for the 30+",
        "primary_metric": "recovery",
        "starts_on": today.isoformat(),
        "planned_end_on": (today + dt.timedelta(days=60)).isoformat(),
        "min_days_past_due": "0",
        "champion-name": "Standard",
        "champion-strategy": str(ReminderStrategy.objects.get(slug="standard").pk),
        "champion-queue_weight": "0",
        "champion-share": "80",
        "challenger-name": "Firm",
        "challenger-strategy": str(ReminderStrategy.objects.get(slug="firm").pk),
        "challenger-queue_weight": "50",
        "challenger-share": "20",
    }
    data.update(changes)
    return data


def test_a_supervisor_creates_starts_reads_promotes_and_stops(sup, collector):
    for _ in range(12):
        debtor = make_debtor()
        make_loan(debtor)
        Case.objects.get_or_create(debtor=debtor, defaults={"assigned_to": collector})
    response = sup.post(reverse("experiment-new"), _form())
    assert response.status_code == 302
    experiment = Experiment.objects.get()
    assert experiment.status == "draft" and experiment.arms.count() == 2
    assert sup.get(reverse("experiments")).status_code == 200

    assert sup.post(reverse("experiment-action", args=[experiment.pk, "start"])).status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == "running"
    assert ArmAssignment.objects.filter(experiment=experiment).count() == 12

    page = sup.get(reverse("experiment-detail", args=[experiment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="arm-metrics"' in html and 'id="comparisons"' in html
    chart = page.context["chart_data"]["recovery"]
    bands = [d for d in chart["panels"][0]["datasets"] if "band_of" in d]
    assert len(bands) == 4  # each arm's interval: a lower and an upper edge

    firm = experiment.arms.get(name="Firm")
    promoted = sup.post(
        reverse("experiment-action", args=[experiment.pk, "promote"]), {"arm": firm.pk}
    )
    assert promoted.status_code == 302
    assert Arm.objects.get(pk=firm.pk).kind == "champion"
    assert sup.post(reverse("experiment-action", args=[experiment.pk, "stop"])).status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == "stopped"


def test_bad_input_is_a_400_naming_the_field(sup):
    response = sup.post(
        reverse("experiment-new"),
        _form(**{"planned_end_on": "9999-12-31", "challenger-share": "-5"}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "outside the dates allowed here" in html
    assert "greater than or equal to 0" in html
    assert not Experiment.objects.exists()


def test_a_refused_start_says_why(sup):
    sup.post(reverse("experiment-new"), _form(**{"challenger-share": "30"}))
    experiment = Experiment.objects.get()
    response = sup.post(reverse("experiment-action", args=[experiment.pk, "start"]))
    assert response.status_code == 400
    assert "add up to 100%" in response.content.decode()
    assert (
        sup.post(reverse("experiment-action", args=[experiment.pk, "explode"])).status_code == 404
    )
    promote = sup.post(reverse("experiment-action", args=[experiment.pk, "promote"]), {"arm": "x"})
    assert promote.status_code == 404


def test_collectors_do_not_reach_the_experiments(client, collector):
    client.force_login(collector)
    assert client.get(reverse("experiments")).status_code == 403
    assert client.get(reverse("experiment-new")).status_code == 403
