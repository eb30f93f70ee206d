"""scripts/bench_train.py keeps running: its quick mode computes the same loss both ways."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_train.py"


def test_quick_mode_runs_and_both_steps_agree():
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "(4 or 3 candidates + original)" in done.stdout and "equal loss: yes" in done.stdout
