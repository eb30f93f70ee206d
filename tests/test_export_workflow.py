"""The export rule in a real Snakemake run: imported SmolLM2 -> checkpoints/alpaca.q8_0.gguf."""

import json

import pytest
import yaml
from workflow_run import ROOT, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow


def test_export_rule_builds_a_quantized_gguf(tmp_path):
    write_config(tmp_path, yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    assert planned_jobs(tmp_path, "checkpoints/alpaca.q8_0.gguf") == {"import_model_gguf": 1, "export": 1}
    # `source` is the imported GGUF itself, other names are no GGUF type we make.
    assert planned_jobs(tmp_path, "checkpoints/alpaca.source.gguf") == {"import_model_gguf": 1}
    unknown = snakemake(tmp_path, "-n", "checkpoints/alpaca.q3_x.gguf", check=False)
    assert unknown.returncode != 0 and "MissingRuleException" in unknown.stdout + unknown.stderr

    snakemake(tmp_path, "checkpoints/alpaca.q8_0.gguf")
    gguf = tmp_path / "checkpoints/alpaca.q8_0.gguf"
    assert gguf.read_bytes()[:4] == b"GGUF" and gguf.stat().st_size > 100_000_000
    assert json.loads((tmp_path / "checkpoints/alpaca.q8_0.gguf.provenance.json").read_text())["params"] == \
        {"quant": "q8_0"}
    assert "q8_0 GGUF of checkpoints/alpaca" in (tmp_path / "logs/export/alpaca.q8_0.log").read_text()
    assert planned_jobs(tmp_path, "checkpoints/alpaca.q8_0.gguf") == {}
