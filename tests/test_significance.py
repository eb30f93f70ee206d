"""Paired bootstrap intervals and tests on cases with known answers, and the LMentry score
bootstrap against tuna.evaluate.lmentry's own aggregation on the real LMentry files."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tuna.errors import TunaError
from tuna.evaluate import lmentry, lmentry_bootstrap, significance
from tuna.evaluate.significance import Settings

FAST = Settings(resamples=2_000, seed=3)


def test_identical_systems_give_an_interval_at_zero_and_p_one():
    scores = np.random.default_rng(0).random(500)
    delta = significance.paired_mean_delta(scores, scores.copy(), settings=FAST)
    assert delta.delta == 0 and delta.low <= 0 <= delta.high and delta.p_value == 1.0
    assert delta.test == "bootstrap" and delta.n == 500


def test_systems_that_differ_by_noise_only_are_not_significant():
    rng = np.random.default_rng(1)
    baseline = rng.random(1_000)
    model = np.clip(baseline + rng.normal(0, 0.05, 1_000), 0, 1)
    delta = significance.paired_mean_delta(model, baseline, settings=FAST)
    assert delta.low < 0 < delta.high and delta.p_value > 0.05


def test_a_clearly_better_system_has_an_interval_above_zero():
    rng = np.random.default_rng(2)
    baseline = rng.random(1_000) * 0.5
    model = baseline + 0.1 + rng.normal(0, 0.05, 1_000)
    delta = significance.paired_mean_delta(model, baseline, settings=FAST)
    assert delta.delta == pytest.approx(100 * (model - baseline).mean())
    assert 0 < delta.low < delta.delta < delta.high and delta.p_value == pytest.approx(1 / (FAST.resamples + 1))


def test_interval_matches_the_normal_approximation_of_a_mean():
    differences = np.random.default_rng(4).normal(0.02, 0.2, 2_000)
    delta = significance.paired_mean_delta(differences, np.zeros_like(differences), settings=Settings(10_000, 0))
    half = 1.96 * 100 * differences.std() / np.sqrt(differences.size)
    assert delta.low == pytest.approx(delta.delta - half, abs=0.1 * half)
    assert delta.high == pytest.approx(delta.delta + half, abs=0.1 * half)


def test_resampling_stays_within_each_stratum():
    # Differences constant within each stratum: a stratified resample always has the same mean.
    values = np.array([1.0] * 30 + [0.0] * 70)
    means = significance.resampled_means(values, [30, 70], FAST)
    assert np.allclose(means, 0.3)
    assert significance.resampled_means(values, [100], FAST).std() > 0.01  # unstratified it varies


def test_the_seed_fixes_the_result():
    rng = np.random.default_rng(5)
    model, baseline = rng.random(300), rng.random(300)
    first = significance.paired_mean_delta(model, baseline, settings=FAST)
    assert significance.paired_mean_delta(model, baseline, settings=FAST) == first
    assert significance.paired_mean_delta(model, baseline, settings=Settings(2_000, seed=4)) != first


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="equal non-empty lengths"):
        significance.paired_mean_delta([1, 0], [1], settings=FAST)
    with pytest.raises(ValueError, match="do not add up"):
        significance.resampled_means(np.zeros(5), [2, 2], FAST)


def test_sign_test_of_vicuna_outcomes():
    delta = significance.sign_test_delta([1] * 8 + [0] * 2, FAST)
    assert delta.test == "sign" and delta.delta == 80.0 and delta.n == 10
    assert delta.p_value == pytest.approx(2 * 0.5 ** 8)  # exact two-sided binomial, ties left out
    assert delta.low > 0
    even = significance.sign_test_delta([1, -1] * 20 + [0] * 5, FAST)
    assert even.delta == 0 and even.p_value == 1.0 and even.low < 0 < even.high
    assert significance.sign_test_delta([0, 0, 0], FAST).p_value == 1.0


# ----- LMentry: the score recomputed on resamples ---------------------------------------------

@pytest.fixture(scope="module")
def lmentry_data(shared_data):
    return lmentry.load(shared_data / "lmentry" / "data", limit=3)  # 123 examples: LMentry's scorers are slow


def answers(data, right: float, seed: int) -> dict[str, str]:
    """Synthetic model: the expected answer with probability `right`, else a wrong one."""
    rng = random.Random(seed)
    return {f"{name}{lmentry.SEPARATOR}{key}": (str(example["metadata"].get("answer", "yes"))
                                                if rng.random() < right else "I am not sure.")
            for name, examples in data.items() for key, example in examples.items()}


@pytest.fixture(scope="module")
def weak_and_strong(lmentry_data):
    """(lmentry.score result, bootstrap instances) of a weak and a strong synthetic model."""
    return [(lmentry.score(lmentry_data, p), lmentry_bootstrap.instances(lmentry_data, p))
            for p in (answers(lmentry_data, 0.3, 0), answers(lmentry_data, 0.9, 1))]


def test_lmentry_bootstrap_scores_as_lmentry_scores(weak_and_strong):
    for result, instances in weak_and_strong:
        assert round(lmentry_bootstrap.observed_score(instances), 1) == pytest.approx(result["lmentry_score"], abs=1e-9)
        assert 0 < result["lmentry_score"] < 100


def test_lmentry_identical_models_and_a_clearly_better_one(lmentry_data, weak_and_strong):
    (_, weak), (_, strong) = weak_and_strong
    same = lmentry_bootstrap.delta(weak, weak, FAST)
    assert same.delta == 0 and same.low == same.high == 0 and same.p_value == 1.0
    assert same.n == sum(len(e) for e in lmentry_data.values())
    better = lmentry_bootstrap.delta(strong, weak, FAST)
    assert better.low > 0 and better.p_value < 0.01 and better.low < better.delta < better.high
    worse = lmentry_bootstrap.delta(weak, strong, FAST)
    assert worse.delta == pytest.approx(-better.delta) and worse.high < 0


def test_lmentry_results_without_common_examples_are_refused(weak_and_strong):
    (_, weak), _ = weak_and_strong
    other = {name: {f"other-{k}": v for k, v in examples.items()} for name, examples in weak.items()}
    with pytest.raises(TunaError, match="no example scored for both systems"):
        lmentry_bootstrap.delta(weak, other, FAST)
