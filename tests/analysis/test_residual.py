"""Residual hazard of self-destructing mines: the issue's checks and hand-computed cases."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from landrelease.analysis import residual as r
from landrelease.analysis.residual import (
    Evidence,
    Minefield,
    Phase,
    beta_binomial_pmf,
    beta_cdf,
    beta_quantile,
    count_interval,
    probability_any,
    residual_hazard,
    residual_of_minefields,
)
from landrelease.errors import InvalidInput

# --- the required checks --------------------------------------------------------------------------


def test_design_limits_without_evidence_give_at_most_ten_of_ten_thousand_at_day_120() -> None:
    estimate = residual_hazard(Minefield(10_000, 120))
    assert estimate.phase is Phase.AFTER_DEACTIVATION
    assert estimate.expected_functional <= 10
    assert estimate.expected_functional == pytest.approx(10.0)
    lo, hi = estimate.interval
    assert lo <= estimate.expected_functional <= hi


def test_six_functional_in_two_hundred_at_day_150_raise_the_estimate_more_than_tenfold() -> None:
    without = residual_hazard(Minefield(10_000, 150))
    with_evidence = residual_hazard(Minefield(10_000, 150), Evidence(200, 6))
    assert with_evidence.evidence_used
    assert with_evidence.expected_functional > 10 * without.expected_functional
    # By hand: prior Beta(0.02, 19.98), posterior Beta(6.02, 213.98); mean 6.02 / 220.
    assert with_evidence.expected_functional == pytest.approx(10_000 * 6.02 / 220)
    assert with_evidence.interval[0] > without.interval[0]


# --- hand-computed cases ---------------------------------------------------------------------------------


def test_self_destruct_phase_uses_the_ten_percent_figure_and_updates_by_conjugacy() -> None:
    # Day 60 with self-deactivation not yet due: the self-destruct failure rate, prior Beta(2, 18).
    prior = residual_hazard(Minefield(100, 60))
    assert prior.phase is Phase.SELF_DESTRUCT_FAILURES
    assert prior.prior is not None
    assert (prior.prior.alpha, prior.prior.beta) == pytest.approx((2.0, 18.0))
    assert prior.expected_functional == pytest.approx(10.0)
    # 5 of 10 inspected functional: Beta(7, 23), mean 7/30.
    posterior = residual_hazard(Minefield(100, 60), Evidence(10, 5))
    assert posterior.posterior is not None
    assert (posterior.posterior.alpha, posterior.posterior.beta) == pytest.approx((7.0, 23.0))
    assert posterior.expected_functional == pytest.approx(100 * 7 / 30)


def test_before_the_self_destruct_time_every_mine_is_live() -> None:
    estimate = residual_hazard(Minefield(500, 0.5, self_destruct_days=1.0), Evidence(10, 0))
    assert estimate.phase is Phase.ARMED
    assert estimate.expected_functional == 500
    assert estimate.interval == (500, 500)
    assert estimate.probability_any_functional == 1.0
    assert not estimate.evidence_used


def test_without_self_deactivation_failures_stay_live() -> None:
    estimate = residual_hazard(Minefield(1_000, 400, self_deactivation=False))
    assert estimate.phase is Phase.SELF_DESTRUCT_FAILURES
    assert estimate.expected_functional == pytest.approx(100.0)


def test_evidence_from_another_phase_is_not_used() -> None:
    estimate = residual_hazard(Minefield(1_000, 150), Evidence(50, 5, day=40))
    assert not estimate.evidence_used
    assert estimate.expected_functional == pytest.approx(1.0)
    assert any("another phase" in note for note in estimate.assumptions)


def test_beta_cdf_against_closed_forms() -> None:
    for x in (0.01, 0.3, 0.5, 0.9):
        assert beta_cdf(x, 1, 1) == pytest.approx(x)
        assert beta_cdf(x, 2, 1) == pytest.approx(x**2)
        assert beta_cdf(x, 1, 5) == pytest.approx(1 - (1 - x) ** 5)
        assert beta_cdf(x, 0.5, 0.5) == pytest.approx(2 / math.pi * math.asin(math.sqrt(x)))
    assert beta_cdf(0.0, 2, 3) == 0.0
    assert beta_cdf(1.0, 2, 3) == 1.0


def test_beta_quantile_inverts_the_cdf_even_for_tiny_alpha() -> None:
    assert beta_quantile(0.25, 2, 1) == pytest.approx(0.5)
    for a, b, p in ((0.02, 19.98, 0.975), (2.0, 18.0, 0.025), (6.02, 213.98, 0.5)):
        assert beta_cdf(beta_quantile(p, a, b), a, b) == pytest.approx(p, rel=1e-9)


def test_beta_binomial_pmf_by_hand() -> None:
    # Beta(1, 1) mixing: every count equally likely.
    assert beta_binomial_pmf(3, 1, 1) == pytest.approx([0.25] * 4)
    # n = 2, Beta(2, 1): C(2, k) B(k + 2, 3 - k) / B(2, 1) = 1/6, 1/3, 1/2.
    assert beta_binomial_pmf(2, 2, 1) == pytest.approx([1 / 6, 1 / 3, 1 / 2])
    assert beta_binomial_pmf(10_000, 0.02, 19.98).sum() == pytest.approx(1.0)


def test_probability_any_and_count_interval_by_hand() -> None:
    # With alpha = 1: P(K = 0) = B(1, n + b) / B(1, b) = b / (n + b).
    assert probability_any(10, 1, 9) == pytest.approx(1 - 9 / 19)
    assert probability_any(0, 1, 9) == 0.0
    # Uniform over 0..3: the central 40 % runs from the 30 % point (k = 1) to the 70 % point (k = 2).
    assert count_interval(3, 1, 1, 0.4) == (1, 2)


def test_large_minefields_use_the_rate_interval_and_agree_with_the_exact_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    exact = count_interval(200_000, 2.0, 18.0, 0.95)
    monkeypatch.setattr(r, "EXACT_COUNT_LIMIT", 1_000)
    approx = count_interval(200_000, 2.0, 18.0, 0.95)
    assert np.allclose(approx, exact, rtol=1e-3)


@pytest.mark.parametrize(
    ("minefield", "evidence", "words"),
    [
        (Minefield(-1, 10), None, "negative"),
        (Minefield(10, -1), None, "days"),
        (Minefield(10, 10), Evidence(3, 4), "cannot come from"),
        (Minefield(10, 10), Evidence(-1, 0), "counts"),
    ],
)
def test_bad_figures_are_refused_in_words(minefield: Minefield, evidence: Evidence | None, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        residual_hazard(minefield, evidence)


# --- per recorded minefield ------------------------------------------------------------------------------


def test_recorded_minefields_at_a_date() -> None:
    records = [
        {
            "id": "MF-000001",
            "hazard_id": "HZ-000001",
            "mines_emplaced": 10_000,
            "laid_on": "2026-01-01",
            "self_destruct_days": 30,
            "self_deactivation": True,
            "mine_types": "POM-2",
        },
        # No self-destruct time: the catalogue's (1 day for POM-2); self-deactivation unknown: taken as absent.
        {"id": "MF-000002", "mines_emplaced": 400, "laid_on": "2026-04-01", "mine_types": "POM-2"},
        # Evidence: 6 of 200 inspected on day 150.
        {
            "id": "MF-000003",
            "mines_emplaced": 10_000,
            "laid_on": "2026-01-01",
            "self_deactivation": True,
            "inspected": 200,
            "functional": 6,
            "inspected_on": "2026-05-31",
        },
        {"id": "MF-000004", "laid_on": "2026-01-01"},
        {"id": "MF-000005", "mines_emplaced": 10, "laid_on": "2027-01-01"},
    ]
    results = {m.record_id: m for m in residual_of_minefields(records, date(2026, 5, 31))}
    first = results["MF-000001"].estimate
    assert first is not None and first.days == 150 and first.expected_functional == pytest.approx(10.0)
    assert results["MF-000001"].hazard_id == "HZ-000001"
    second = results["MF-000002"].estimate
    assert second is not None and second.phase is Phase.SELF_DESTRUCT_FAILURES
    assert second.expected_functional == pytest.approx(40.0)
    assert any("catalogue" in n for n in second.assumptions)
    third = results["MF-000003"].estimate
    assert third is not None and third.evidence_used
    assert third.expected_functional == pytest.approx(10_000 * 6.02 / 220)
    assert results["MF-000004"].estimate is None
    assert results["MF-000004"].problem == "no number of mines emplaced recorded"
    assert "after the date of the estimate" in (results["MF-000005"].problem or "")
    assert results["MF-000004"].as_dict()["problem"] == "no number of mines emplaced recorded"


def test_a_record_with_a_bad_date_says_so() -> None:
    [result] = residual_of_minefields([{"mines_emplaced": 5, "laid_on": "last spring"}], date(2026, 1, 1))
    assert result.estimate is None
    assert result.problem == "the date laid 'last spring' is not a date (yyyy-mm-dd)"
