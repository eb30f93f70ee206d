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


@pytest.mark.timeout(3600)  # the whole default target (two trainings, evaluation, report) and two vLLM starts
def test_default_target_samples_with_vllm(tmp_path):
    config = copy.deepcopy(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    config["data"].update(limit=8, shards=1, ctx_rank_limit=4)
    config["sampling"]["provider"] = {"kind": "vllm", "n_ctx": 1024}
    write_config(tmp_path, config)
    assert "sample" in planned_jobs(tmp_path)
    snakemake(tmp_path)
    for model in ("alpaca", "tuna_p"):
        samples = [json.loads(line) for line in
                   (tmp_path / "results/ctx_rank" / model / "samples/0.jsonl").read_text().splitlines()]
        assert len(samples) == 4 and all(len(s["candidates"]) == 4 for s in samples)
        cost = json.loads((tmp_path / "results/ctx_rank" / model / "samples/0.cost.json").read_text())
        assert cost["provider"] == "vllm" and cost["this_run"]["calls"] > 0
    assert (tmp_path / "results/report/table1.md").exists()
    assert planned_jobs(tmp_path) == {}
