"""The statistics of champion/challenger experiments.

Per arm, each metric is an estimate with a 95% confidence interval (normal approximation):
a rate of cases (cure, opt-out, dispute) or of promises (kept) with its binomial standard
error, a mean of per-case ratios (recovery) with the standard error of the mean, and a ratio
of totals (contacts per unit collected) with the delta method's standard error.

The difference between a challenger and the champion is judged with an always-valid test: the
mixture sequential probability ratio test (mSPRT, Johari, Koomen, Pekelis and Walsh, "Always
Valid Inference", 2017/2022) for a normal estimate. Supervisors look at an experiment every
day; a fixed-sample test read daily finds a "significant" difference far more often than 5%
of the time when there is none. The mSPRT's p-value stays valid however often it is read, and
its confidence sequence covers the true difference at every look at once. With ``V`` the
difference's variance and ``tau2`` the mixture's variance (the size of effect the test is
tuned to), the likelihood ratio against "no difference" is

    Lambda = sqrt(V / (V + tau2)) * exp(tau2 * d**2 / (2 * V * (V + tau2)))

the always-valid p-value is the running minimum of ``1 / Lambda``, and the confidence
sequence is ``d +- sqrt(V * (V + tau2) / tau2 * (log((V + tau2) / V) - 2 log(alpha)))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

ALPHA = 0.05
Z95 = float(stats.norm.ppf(1 - ALPHA / 2))


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float
    n: int
    # An interval of its own (a proportion's Wilson interval), else value +- 1.96 se.
    bounds: tuple[float, float] | None = None

    @property
    def low(self) -> float:
        return self.bounds[0] if self.bounds else self.value - Z95 * self.se

    @property
    def high(self) -> float:
        return self.bounds[1] if self.bounds else self.value + Z95 * self.se


def proportion(successes: int, trials: int) -> Estimate:
    """A share with its standard error (for comparisons) and its Wilson score interval, which
    stays within 0 and 1 and is not empty at 0 or 1 (the normal one is, for few cases)."""
    if trials <= 0:
        return Estimate(0.0, 0.0, 0)
    p = successes / trials
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = Z95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return Estimate(
        p,
        math.sqrt(max(p * (1 - p), 0.0) / trials),
        trials,
        (max(0.0, centre - half), min(1.0, centre + half)),
    )


def mean(total: float, total_of_squares: float, n: int) -> Estimate:
    """The mean of ``n`` values from their sum and the sum of their squares."""
    if n <= 0:
        return Estimate(0.0, 0.0, 0)
    m = total / n
    variance = max(total_of_squares / n - m * m, 0.0) * n / max(n - 1, 1)
    return Estimate(m, math.sqrt(variance / n), n)


def ratio(
    numerator: float,
    denominator: float,
    n: int,
    *,
    sum_x2: float,
    sum_y2: float,
    sum_xy: float,
) -> Estimate:
    """The ratio of two totals over ``n`` cases (x: numerator, y: denominator per case), with
    the delta method's standard error."""
    if n <= 1 or denominator <= 0:
        return Estimate(0.0, 0.0, n)
    r = numerator / denominator
    mean_y = denominator / n
    # Variance of the per-case residuals x - r*y.
    residual = (sum_x2 - 2 * r * sum_xy + r * r * sum_y2) / (n - 1)
    return Estimate(r, math.sqrt(max(residual, 0.0) / n) / mean_y, n)


@dataclass(frozen=True)
class Comparison:
    difference: float
    low: float  # the always-valid 95% confidence sequence
    high: float
    p_value: float  # always valid: may be read after every look
    significant: bool
    # False when neither arm varies yet (no interval can be given).
    measured: bool = True


def mixture_likelihood_ratio(difference: float, variance: float, tau2: float) -> float:
    if variance <= 0:
        return 1.0
    exponent = tau2 * difference * difference / (2 * variance * (variance + tau2))
    return math.sqrt(variance / (variance + tau2)) * math.exp(min(exponent, 700.0))


def compare(
    challenger: Estimate,
    champion: Estimate,
    *,
    tau2: float,
    previous_p: float = 1.0,
    alpha: float = ALPHA,
) -> Comparison:
    """The challenger's difference from the champion at this look. ``previous_p``: the
    smallest p-value of the earlier looks (the p-value never rises again)."""
    d = challenger.value - champion.value
    variance = challenger.se**2 + champion.se**2
    if variance <= 0 or tau2 <= 0:
        return Comparison(d, -math.inf, math.inf, previous_p, previous_p < alpha, measured=False)
    p = min(previous_p, 1.0 / mixture_likelihood_ratio(d, variance, tau2))
    width = math.sqrt(
        variance
        * (variance + tau2)
        / tau2
        * (math.log((variance + tau2) / variance) - 2 * math.log(alpha))
    )
    return Comparison(d, d - width, d + width, p, p < alpha)


def default_tau2(champion: Estimate, relative_effect: float = 0.1) -> float:
    """The mixture's variance: tuned to detect a difference of ``relative_effect`` of the
    champion's value (10% by default), the size of change a team would act on."""
    effect = abs(champion.value) * relative_effect
    return max(effect * effect, 1e-8)
