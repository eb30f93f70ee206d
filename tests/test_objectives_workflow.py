"""A real Snakemake run of one model per ranking objective on one ranking: DPO's frozen
reference is made once, reused by reruns and re-made only when what it scores changes."""

import json

import pytest
from test_train_workflow import config, without_gguf_providers
from tiny_llama import save_tiny_checkpoint
from workflow_run import planned_jobs, snakemake, write_config

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
    assert planned_jobs(tmp_path, *targets) == {"import_model": 1, "prepare_data": 1, "teacher": 2, "score": 1,
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
