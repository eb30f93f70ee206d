"""A real Snakemake run of one model per ranking objective on one ranking: DPO's frozen
reference is made once, reused by reruns and re-made only when what it scores changes;
config/objectives.yaml's plan and its report spec."""

import json
import re
import subprocess

import pytest
import yaml
from test_train_workflow import config, without_gguf_providers
from tiny_llama import save_tiny_checkpoint
from workflow_run import ROOT, planned_jobs, snakemake, write_config

from tuna.config.loading import load

OBJECTIVES = ("rank", "rrhf", "listmle", "dpo", "simpo")


@pytest.mark.slow
def test_one_model_per_objective_and_the_dpo_reference_made_once(tmp_path):
    source = save_tiny_checkpoint(tmp_path / "tiny_source")
    cfg = without_gguf_providers(config())
    cfg["models"] = {"alpaca": {"import": str(source), "template": "chat"},
                     **{f"m_{o}": {"init": "alpaca", "data": "prob_rank", "train": {"objective": o}}
                        for o in OBJECTIVES}}
    cfg["train"]["lr"] = 1e-3
    cfg["evaluation"].update(models=["alpaca"], held_out={"models": ["alpaca"], "rankings": ["prob_rank"]})
    write_config(tmp_path, cfg)
    targets = [f"checkpoints/m_{o}" for o in OBJECTIVES]
    assert planned_jobs(tmp_path, *targets) == {"import_model_hf": 1, "prepare_data": 1, "teacher": 2, "score": 1,
                                                "reference": 1, "train": 5}
    snakemake(tmp_path, *targets)
    for objective in OBJECTIVES:
        stamp = json.loads((tmp_path / f"checkpoints/m_{objective}/provenance.json").read_text())
        assert stamp["params"]["objective"] == objective and stamp["validation"]["examples"] == 4
    dpo = json.loads((tmp_path / "checkpoints/m_dpo/provenance.json").read_text())
    assert dpo["params"]["reference"] == "results/reference/m_dpo.jsonl"
    assert "results/reference/m_dpo.jsonl" in [i["path"] for i in dpo["inputs"]]
    lines = (tmp_path / "results/reference/m_dpo.jsonl").read_text().splitlines()
    assert len(lines) == 12 and "reference log-probs of 48 candidates" in (tmp_path / "logs/reference/m_dpo.log").read_text()
    assert planned_jobs(tmp_path, *targets) == {}

    cfg["models"]["m_dpo"]["train"]["dpo_beta"] = 0.5  # the loss changes, not what the reference scores
    write_config(tmp_path, cfg)
    assert planned_jobs(tmp_path, *targets) == {"train": 1}
    cfg["models"]["m_dpo"]["train"]["max_length"] = 128  # other tokens: a new reference, then training
    write_config(tmp_path, cfg)
    assert planned_jobs(tmp_path, *targets) == {"reference": 1, "train": 1}


OBJECTIVES_CONFIG = ROOT / "config" / "objectives.yaml"


def test_the_objectives_config_trains_each_objective_on_one_ranking_and_reports_them():
    plan = load(yaml.safe_load(OBJECTIVES_CONFIG.read_text()))
    trained = {m: plan.train(m).objective for m in plan.trained()}
    assert sorted(trained.values()) == sorted(OBJECTIVES) and plan.referenced() == ["tuna_p_dpo"]
    assert {plan.train_input(m) for m in trained} == {"runs/objectives/results/prob_rank/ranked.jsonl"}
    spec = plan.report_spec()
    assert spec.objectives == {"alpaca": "imported", **trained}
    assert "objectives" in spec.tables_written() and list(spec.results["tuna_p_simpo"]) == ["vicuna"]
    assert all(spec.agreement[m] and spec.nll[m] for m in spec.models)  # held-out pair accuracy and NLL, each model


@pytest.mark.slow
def test_the_objectives_config_plans_one_teacher_run_one_scoring_and_one_reference(tmp_path):
    result = subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "-n", "--cores", "2",
                             "--configfile", str(OBJECTIVES_CONFIG)], capture_output=True, text=True)
    text = result.stdout + result.stderr
    assert result.returncode == 0, text
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", text.split("Job stats:", 1)[1], re.M))
    assert {rule: jobs[rule] for rule in ("teacher", "score", "reference", "train", "judge_vicuna", "report")} == {
        "teacher": "2", "score": "1", "reference": "1", "train": "5", "judge_vicuna": "5", "report": "1"}
    assert "runs/objectives/results/report" in text
