"""The held-out evaluation in the config: which models and rankings, the files, clear errors."""

import copy

import pytest
import yaml
from workflow_run import ROOT, planned_jobs, snakemake, write_config

from tuna import config as tuna_config
from tuna.config.sweeps import beta_sweeps
from tuna.errors import TunaError

DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
PAPER = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())


def with_held_out(**held_out):
    config = copy.deepcopy(DEFAULT)
    config["evaluation"]["held_out"] = held_out
    return config


def test_the_default_evaluates_alpaca_tuna_p_and_tuna_on_the_held_out_teacher_ranks():
    plan = tuna_config.load(DEFAULT)
    assert plan.config.data.held_out == 4 and plan.held_out_models() == ["alpaca", "tuna_p", "tuna"]
    assert plan.agreement_rankings() == {"prob_rank": "results/prob_rank/ranked.jsonl"}
    assert plan.held_out_results() == [f"results/{m}/{f}.json" for m in ("alpaca", "tuna_p", "tuna")
                                      for f in ("agreement_prob_rank", "nll")]
    assert plan.held_out_max_length("alpaca") == plan.held_out_max_length("tuna") == 256


def test_rankings_with_a_model_and_no_split_no_results():
    plan = tuna_config.load(with_held_out(models=["tuna"], rankings=["prob_rank", "ctx_rank:tuna_p"], nll=False))
    assert plan.held_out_results() == ["results/tuna/agreement_prob_rank.json",
                                      "results/tuna/agreement_ctx_rank-tuna_p.json"]
    assert plan.agreement_rankings()["ctx_rank:tuna_p"] == "results/ctx_rank/tuna_p/ranked.jsonl"
    config = copy.deepcopy(DEFAULT)
    config["data"]["held_out"] = 0
    assert tuna_config.load(config).held_out_results() == []


@pytest.mark.parametrize("held_out, message", [
    ({"models": ["nope"]}, "evaluation.held_out.models.0: unknown model 'nope'"),
    ({"rankings": ["prob_rank", "judge_rank"]}, "evaluation.held_out.rankings.1: unknown data set 'judge_rank'"),
    ({"nll": "yes please"}, "evaluation.held_out.nll"),
])
def test_bad_held_out_keys_are_named(held_out, message):
    with pytest.raises(TunaError, match=message.replace(".", r"\.")):
        tuna_config.load(with_held_out(**held_out), source="config")


def test_nll_data_sets_are_evaluated_with_or_without_a_held_out_split():
    config = with_held_out(models=["alpaca"], nll_data={"lima": "/data/lima/train.jsonl",
                                                        "vicuna": "download:vicuna_question.jsonl"})
    plan = tuna_config.load(config)
    assert plan.nll_data() == {"lima": "/data/lima/train.jsonl", "vicuna": "resources/downloads/vicuna_question.jsonl"}
    assert plan.held_out_results() == ["results/alpaca/agreement_prob_rank.json", "results/alpaca/nll.json",
                                      "results/alpaca/nll_lima.json", "results/alpaca/nll_vicuna.json"]
    config["data"]["held_out"] = 0
    plan = tuna_config.load(config)
    assert plan.agreement_rankings() == {} and plan.held_out_results() == ["results/alpaca/nll_lima.json",
                                                                          "results/alpaca/nll_vicuna.json"]


@pytest.mark.parametrize("nll_data, message", [
    ({"LIMA": "x.jsonl"}, "evaluation.held_out.nll_data.LIMA: an NLL data set's name matches"),
    ({"lima": "download:lima_train.jsonl"}, "evaluation.held_out.nll_data.lima: unknown download 'lima_train.jsonl'"),
])
def test_bad_nll_data_is_named(nll_data, message):
    with pytest.raises(TunaError, match=message.replace(".", r"\.")):
        tuna_config.load(with_held_out(nll_data=nll_data), source="config")


def test_the_papers_beta_sweep_is_table5_and_the_default_has_none():
    paper = tuna_config.load(PAPER)
    assert beta_sweeps(paper) == {"alpaca+prob_rank": {
        "tuna_p": 1.3, "tuna_p_beta0_9": 0.9, "tuna_p_beta1_0": 1.0, "tuna_p_beta1_1": 1.1, "tuna_p_beta1_2": 1.2,
        "tuna_p_beta1_4": 1.4}}
    assert "runs/paper/results/tuna_p_beta0_9/nll_lima.json" in paper.held_out_results()
    assert beta_sweeps(tuna_config.load(DEFAULT)) == {}
    no_nll = copy.deepcopy(PAPER)
    del no_nll["evaluation"]["held_out"]["nll_data"]
    assert beta_sweeps(tuna_config.load(no_nll)) == {}  # no split, no NLL data: nothing to pick by


def with_prm(**held_out):
    config = with_held_out(**held_out) if held_out else copy.deepcopy(DEFAULT)
    config["models"]["tuna_c_prm"] = {"init": "alpaca", "data": [
        "ctx_rank:alpaca", {"set": "prm_rank:alpaca", "range": [8, 12]}]}  # the judged 8 + the PRM's ranks of the rest
    return config


def test_a_proxy_ranking_model_is_checked_against_its_judge_on_the_held_out_split():
    plan = tuna_config.load(with_prm())
    assert plan.prm_agreements() == {("alpaca", "prm"): "results/ctx_rank/alpaca/prm_agreement.json"}
    assert plan.held_out_results()[-1] == "results/ctx_rank/alpaca/prm_agreement.json"
    config = with_prm()
    config["data"]["held_out"] = 0
    assert tuna_config.load(config).prm_agreements() == {}


@pytest.mark.slow  # runs snakemake -n
def test_the_held_out_target_plans_prm_agreement_and_nll_data_jobs(tmp_path):
    config = with_prm(models=["alpaca", "tuna_c_prm"], nll_data={"lima": str(tmp_path / "absent" / "train.jsonl")})
    write_config(tmp_path, config)
    jobs = planned_jobs(tmp_path, "held_out")
    assert jobs["eval_agreement_prm"] == 1 and jobs["prm_train"] == 1 and jobs["ctx_rank"] == 1
    assert jobs["eval_nll_data"] == jobs["eval_nll"] == jobs["eval_agreement"] == 2  # a missing file still plans
    dry = snakemake(tmp_path, "-n", "-p", "held_out").stdout
    prm_job = dry.split("tuna eval-agreement --checkpoint results/ctx_rank/alpaca/prm ", 1)[1].split("\n", 1)[0]
    assert ("--ranked results/ctx_rank/alpaca/ranked.jsonl --held-out results/data/held_out.jsonl "
            "--data-name ctx_rank:alpaca --model-name prm -o results/ctx_rank/alpaca/prm_agreement.json") in prm_job
    assert f"--data {tmp_path / 'absent' / 'train.jsonl'} --data-name lima" in dry
    report = snakemake(tmp_path, "-n", "-p", "results/report/table1.csv").stdout
    assert '"prm_agreement":["results/ctx_rank/alpaca/prm_agreement.json"]' in report  # the spec the report reads
    assert '"nll":{"alpaca":{"held_out":"results/alpaca/nll.json","lima":"results/alpaca/nll_lima.json"}' in report

    write_config(tmp_path, PAPER)
    paper = planned_jobs(tmp_path, "held_out")
    assert paper["eval_nll_data"] == 7 and "eval_nll" not in paper and "eval_agreement_prm" not in paper
    assert "runs/paper/results/report/table5.csv" in snakemake(tmp_path, "-n", "runs/paper/results/report/table5.csv"
                                                               ).stdout
