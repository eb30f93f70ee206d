"""The held-out evaluation in the config: which models and rankings, the files, clear errors."""

import copy
from pathlib import Path

import pytest
import yaml

from tuna import config as tuna_config
from tuna.errors import TunaError

DEFAULT = yaml.safe_load((Path(__file__).resolve().parent.parent / "config" / "config.yaml").read_text())


def with_held_out(**held_out):
    config = copy.deepcopy(DEFAULT)
    config["evaluation"]["held_out"] = held_out
    return config


def test_the_default_evaluates_alpaca_tuna_p_and_tuna_on_the_held_out_teacher_ranks():
    plan = tuna_config.load(DEFAULT)
    assert plan.config.data.held_out == 4 and plan.heldout_models() == ["alpaca", "tuna_p", "tuna"]
    assert plan.agreement_rankings() == {"prob_rank": "results/prob_rank/ranked.jsonl"}
    assert plan.heldout_results() == [f"results/{m}/{f}.json" for m in ("alpaca", "tuna_p", "tuna")
                                      for f in ("agreement_prob_rank", "nll")]
    assert plan.heldout_max_length("alpaca") == plan.heldout_max_length("tuna") == 256


def test_rankings_with_a_model_and_no_split_no_results():
    plan = tuna_config.load(with_held_out(models=["tuna"], rankings=["prob_rank", "ctx_rank:tuna_p"], nll=False))
    assert plan.heldout_results() == ["results/tuna/agreement_prob_rank.json",
                                      "results/tuna/agreement_ctx_rank-tuna_p.json"]
    assert plan.agreement_rankings()["ctx_rank-tuna_p"] == "results/ctx_rank/tuna_p/ranked.jsonl"
    config = copy.deepcopy(DEFAULT)
    config["data"]["held_out"] = 0
    assert tuna_config.load(config).heldout_results() == []


@pytest.mark.parametrize("held_out, message", [
    ({"models": ["nope"]}, "evaluation.held_out.models.0: unknown model 'nope'"),
    ({"rankings": ["prob_rank", "judge_rank"]}, "evaluation.held_out.rankings.1: unknown data set 'judge_rank'"),
    ({"nll": "yes please"}, "evaluation.held_out.nll"),
])
def test_bad_held_out_keys_are_named(held_out, message):
    with pytest.raises(TunaError, match=message.replace(".", r"\.")):
        tuna_config.load(with_held_out(**held_out), source="config")
