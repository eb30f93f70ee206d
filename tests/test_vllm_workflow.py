"""The default target with vLLM as the self-sampling engine (`sampling.provider.kind: vllm`)."""

import copy
import importlib.util
import json

import pytest
import yaml
from workflow_run import ROOT, planned_jobs, snakemake, write_config

# find_spec, not importorskip: importing vLLM takes seconds, even for `-m "not slow"`.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                                                   reason="vLLM is not installed (pip install -e '.[vllm]')")]


@pytest.mark.timeout(1800)
def test_default_target_samples_with_vllm(tmp_path):
    """A small experiment (Alpaca and Tuna_c, one vLLM engine start) through its default target: the
    report of the held-out agreement, NLL, ranking lengths and cost (no benchmark answers)."""
    config = copy.deepcopy(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    config["data"].update(limit=4, held_out=2, shards=1, ctx_rank_limit=2)
    config["models"] = {"alpaca": config["models"]["alpaca"], "tuna_c": {"init": "alpaca", "data": "ctx_rank:alpaca"}}
    config["train"]["batch_size"] = 2
    config["sampling"]["provider"] = {"kind": "vllm", "n_ctx": 1024}
    config["evaluation"].update(models=["alpaca", "tuna_c"], benchmarks=[])  # generation is tested elsewhere
    config["evaluation"]["held_out"] = {"models": ["alpaca", "tuna_c"], "rankings": ["ctx_rank:alpaca"]}
    write_config(tmp_path, config)
    assert planned_jobs(tmp_path)["sample"] == 1
    snakemake(tmp_path)
    samples = [json.loads(line) for line in (tmp_path / "results/ctx_rank/alpaca/samples/0.jsonl").read_text().splitlines()]
    assert len(samples) == 4 and all(len(s["candidates"]) == 4 for s in samples)  # 2 judged + the 2 held out
    cost = json.loads((tmp_path / "results/ctx_rank/alpaca/samples/0.cost.json").read_text())
    assert cost["provider"] == "vllm" and cost["this_run"]["calls"] > 0
    assert json.loads((tmp_path / "checkpoints/tuna_c/validation.json").read_text())["examples"] >= 1
    assert (tmp_path / "results/report/table1.md").exists()
    assert planned_jobs(tmp_path) == {}
