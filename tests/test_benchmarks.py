"""Every benchmark script still runs: its --quick mode (tiny sizes) prints its comparison.

The full runs (the numbers in README) stay out of the test suite; this only keeps the
scripts from rotting as the code they measure changes.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from workflow_run import ROOT

# script -> what its last lines must say (the ratio against its baseline, measured in the run)
QUICK = {
    "bench_train.py": "equal log-probs: yes",  # packed vs padded rows (ragged counts), objectives, reference pass
    "bench_agreement.py": "equal v: yes",
    "bench_rouge.py": "speedup",
    "bench_superni.py": "speed-up",
    "bench_bootstrap.py": "speed-up",
    "bench_teacher.py": "speedup:",
    "bench_planning.py": "per-job planning time",
}
WITH_MODELS = {
    "bench_sampling.py": "vs llama.cpp",
}


def run_quick(script: str) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--quick"], capture_output=True,
                            text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("script", sorted(QUICK))
def test_quick_benchmark_runs(script):
    assert QUICK[script] in run_quick(script)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(WITH_MODELS))
def test_quick_benchmark_with_models_runs(script):
    assert WITH_MODELS[script] in run_quick(script)


def test_every_benchmark_script_has_a_quick_test():
    scripts = {path.name for path in (ROOT / "scripts").glob("bench_*.py")}
    assert scripts == set(QUICK) | set(WITH_MODELS)
