"""The experiment statistics on simulated portfolios: a challenger that truly recovers 10% more
is found, and identical arms looked at every day are declared different about 5% of the time
at most (a fixed-sample test read daily would do so far more often)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring import statistics

DAYS = 60
PER_DAY = 200  # cases entering each arm per day
BASE = 0.30  # the champion's recovery (share of cases that pay back)


def _looks(rng, p_champion: float, p_challenger: float):
    """Each day's cumulative estimates of the two arms."""
    champion = np.cumsum(rng.binomial(PER_DAY, p_champion, DAYS))
    challenger = np.cumsum(rng.binomial(PER_DAY, p_challenger, DAYS))
    n = PER_DAY * np.arange(1, DAYS + 1)
    for day in range(DAYS):
        yield (
            statistics.proportion(int(challenger[day]), int(n[day])),
            statistics.proportion(int(champion[day]), int(n[day])),
        )


def _experiment(rng, p_champion, p_challenger) -> tuple[bool, bool]:
    """(the sequential test ever rejected, a naive daily z-test ever rejected)."""
    p = 1.0
    sequential = naive = False
    tau2 = (BASE * 0.1) ** 2
    for challenger, champion in _looks(rng, p_champion, p_challenger):
        result = statistics.compare(challenger, champion, tau2=tau2, previous_p=p)
        p = result.p_value
        sequential = sequential or result.significant
        se = math.hypot(challenger.se, champion.se)
        naive = naive or abs(challenger.value - champion.value) > statistics.Z95 * se
    return sequential, naive


def test_identical_arms_read_every_day_are_rarely_declared_different():
    rng = np.random.default_rng(2026)
    runs = [_experiment(rng, BASE, BASE) for _ in range(500)]
    sequential = sum(s for s, _n in runs) / len(runs)
    naive = sum(n for _s, n in runs) / len(runs)
    assert sequential <= 0.07, sequential
    # What the daily looks would cost a fixed-sample test: why the sequential one is used.
    assert naive >= 2 * 0.05, naive


def test_a_challenger_that_recovers_ten_percent_more_is_found():
    rng = np.random.default_rng(7)
    runs = [_experiment(rng, BASE, BASE * 1.1) for _ in range(200)]
    power = sum(s for s, _n in runs) / len(runs)
    assert power >= 0.8, power


def test_the_confidence_sequence_covers_the_true_difference_at_every_look():
    rng = np.random.default_rng(11)
    misses = 0
    for _ in range(300):
        for challenger, champion in _looks(rng, BASE, BASE * 1.1):
            result = statistics.compare(challenger, champion, tau2=(BASE * 0.1) ** 2)
            if not result.low <= BASE * 0.1 <= result.high:
                misses += 1
                break
    assert misses / 300 <= 0.07


def test_estimates_and_their_intervals():
    rate = statistics.proportion(30, 100)
    assert rate.value == pytest.approx(0.3)
    assert rate.se == pytest.approx(math.sqrt(0.21 / 100))
    # Wilson's interval: 0.219 to 0.396 for 30 of 100; inside 0..1 and not empty at 0.
    assert (rate.low, rate.high) == (
        pytest.approx(0.2189, abs=1e-3),
        pytest.approx(0.3958, abs=1e-3),
    )
    none = statistics.proportion(0, 40)
    assert none.low == 0 and 0 < none.high < 0.1
    values = np.array([0.0, 0.5, 1.0, 0.25])
    m = statistics.mean(values.sum(), (values**2).sum(), 4)
    assert m.value == pytest.approx(values.mean())
    assert m.se == pytest.approx(values.std(ddof=1) / 2)
    x = np.array([3.0, 5.0, 2.0, 8.0])
    y = np.array([100.0, 120.0, 80.0, 200.0])
    r = statistics.ratio(
        x.sum(), y.sum(), 4, sum_x2=(x**2).sum(), sum_y2=(y**2).sum(), sum_xy=(x * y).sum()
    )
    assert r.value == pytest.approx(18 / 500)
    assert r.se > 0
    assert statistics.proportion(0, 0).n == 0
    flat = statistics.compare(none, none, tau2=0.01)
    assert not flat.measured and not flat.significant
