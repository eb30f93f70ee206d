"""scripts/gpu_check.py runs every path it takes on a GPU on the CPU (`--device cpu --tiny`), so it never rots.

Its speed targets are checked only where a GPU runs it, never here.
"""

import json
import subprocess
import sys

import pytest
from workflow_run import ROOT

pytestmark = pytest.mark.slow  # trains a tiny llama six times (four trainer runs, DeepSpeed among them, and a PRM)


def test_gpu_check_runs_every_check_on_the_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--device", "cpu", "--tiny",
                             "--json", str(out)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report = json.loads(out.read_text())
    rows = {row["check"]: row for row in report["rows"]}
    assert list(rows) == ["train full (plain)", "train LoRA r16 (plain)", "train ZeRO-2 (1 rank)",
                          "train ZeRO-3 (1 rank)", "step packed vs padded", "hf generate (batched)", "prm train",
                          "prm rank (no grad)"]
    assert report["passed"] and all(row["ok"] for row in rows.values())
    for name in list(rows)[:4]:  # every trainer run's first step is the padded baseline's loss (fp32 here)
        row = rows[name]
        assert row["loss"] == pytest.approx(row["padded_loss"], rel=1e-4) and row["tokens_per_s"] > 0, name
        assert row["mfu"] is None and row.get("target") is None  # no peak, no target on a CPU
    assert rows["train LoRA r16 (plain)"]["trainable"] < rows["train full (plain)"]["trainable"]
    assert rows["step packed vs padded"]["ratio"] > 0 and "target_met" not in rows["step packed vs padded"]
    assert rows["hf generate (batched)"]["logprob_gap_per_token"] < 1e-3
    assert rows["prm rank (no grad)"]["rankings"] == 12
    table = result.stdout
    assert "train ZeRO-3 (1 rank)" in table and "8 of 8 checks passed" in table
