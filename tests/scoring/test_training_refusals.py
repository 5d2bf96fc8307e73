"""Training refuses to store a model it could not validate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scoring.models import ScoreModel
from scoring.training import TrainingError, train

pytestmark = pytest.mark.django_db


def test_training_refuses_a_database_without_history():
    with pytest.raises(TrainingError, match="Too little history"):
        train(actor="tests", today=dt.date(2026, 6, 30))
    with pytest.raises(CommandError, match="Too little history"):
        call_command("train_score")
    assert not ScoreModel.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"snapshots": 1}, "--snapshots must be at least 2"),
        ({"step_days": 0}, "--step-days must be at least 1"),
    ],
)
def test_the_command_names_a_bad_option(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("train_score", **options)


def test_validation_must_leave_something_to_learn_from():
    with pytest.raises(TrainingError, match="fewer than all snapshots"):
        train(actor="tests", snapshots=3, validation_snapshots=3)
