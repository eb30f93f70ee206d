"""Eq. 3 scores by hand, the documented rule for degenerate candidates and ties, shard gathering."""

import math

import pytest

from tuna.errors import TunaError
from tuna.ranking.probabilistic import eq3_score, rank_all, rank_candidates
from tuna.records import Candidate, Generation, Instruction


def cand(logprobs, finish="stop", text="x"):
    return Candidate(text=text, n_tokens=len(logprobs), logprobs=logprobs, finish_reason=finish)


def test_eq3_by_hand():
    # beta 0: plain sum; beta 1: mean; beta 1.3: sum / |r|^1.3
    assert eq3_score([-1.0, -2.0, -3.0], 0) == pytest.approx(-6.0)
    assert eq3_score([-1.0, -2.0, -3.0], 1) == pytest.approx(-2.0)
    assert eq3_score([-1.0, -2.0, -3.0], 1.3) == pytest.approx(-6.0 / 3 ** 1.3)
    assert eq3_score([-2.0, -2.0], 1.3) == pytest.approx(-4.0 / 2.4622888266898326)
    assert eq3_score([-0.5], 1.3) == pytest.approx(-0.5)


def test_beta_decides_between_long_and_short():
    short = cand([-1.0, -1.0])  # sum -2, mean -1
    long = cand([-0.8] * 5)  # sum -4, mean -0.8
    assert [c.score for c in rank_candidates([long, short], 0)] == pytest.approx([-2.0, -4.0])
    ranked = rank_candidates([short, long], 1.3)
    assert ranked[0].n_tokens == 5 and ranked[0].score == pytest.approx(-4.0 / 5 ** 1.3)
    assert ranked[1].score == pytest.approx(-2.0 / 2 ** 1.3)


def test_degenerate_candidates_and_ties():
    candidates = [
        Candidate(text="", n_tokens=0, finish_reason="error", error="boom"),
        cand([-0.1, -0.1], finish="length", text="cut"),  # best score, but truncated
        cand([-1.0], text="tie-a"),
        Candidate(text="", n_tokens=0, logprobs=[], finish_reason="empty"),
        cand([-1.0], text="tie-b"),
        cand([-0.5], text="best"),
    ]
    ranked = rank_candidates(candidates, 1.3)  # the paper: pure Eq. 3 order; failed/empty are never ranked
    assert [c.text for c in ranked] == ["cut", "best", "tie-a", "tie-b"]
    assert all(c.logprobs is None for c in ranked)  # training does not need teacher log-probs
    last = rank_candidates(candidates, 1.3, truncated="last")
    assert [c.text for c in last] == ["best", "tie-a", "tie-b", "cut"]


def test_rank_all_gathers_shards_and_keeps_the_original_response():
    instructions = [Instruction(id=f"i{k}", instruction=f"do {k}", output=f"orig {k}") for k in range(3)]
    gens = [Generation(id=f"i{k}", model="m", candidates=[cand([-1.0]), cand([-0.1])]) for k in (2, 0, 1)]
    rankings = rank_all(instructions, gens, 1.3)
    assert [r.id for r in rankings] == ["i0", "i1", "i2"]
    assert rankings[1].output == "orig 1" and rankings[1].source == "prob"
    assert rankings[0].candidates[0].score == pytest.approx(-0.1)
    with pytest.raises(TunaError, match="no teacher responses for instruction 'i2'"):
        rank_all(instructions, gens[1:], 1.3)
    with pytest.raises(TunaError, match="appears twice"):
        rank_all(instructions, gens + gens[:1], 1.3)
    with pytest.raises(TunaError, match="unknown instruction"):
        rank_all(instructions[:2], gens, 1.3)


def test_score_is_finite_for_extreme_logprobs():
    assert math.isfinite(eq3_score([-80.0] * 400, 1.3))
