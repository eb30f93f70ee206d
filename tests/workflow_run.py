"""Run the real Snakemake workflow in a scratch directory (shared by workflow tests)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def write_config(workdir: Path, config: dict) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`snakemake` on the project's Snakefile with workdir as working directory."""
    command = ["snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(workdir),
               "--configfile", str(workdir / "config.yaml"), "--cores", "2", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def planned_jobs(workdir: Path, *targets: str) -> dict[str, int]:
    """Rule -> job count of a dry run (empty when there is nothing to do)."""
    result = snakemake(workdir, "-n", *targets)
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    return {rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)$", table, re.M) if rule != "total"}
