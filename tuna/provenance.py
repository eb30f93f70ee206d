"""Provenance stamps: which code, parameters and inputs made an output.

Every command writes `<output>.provenance.json` beside each file it makes (or
`provenance.json` inside an output directory), so a number in a report can be
traced to the tuna version, git commit and inputs that produced it (and, on a cluster, to
the SLURM job and GPUs that made it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import subprocess
import sys
from functools import cache
from pathlib import Path

import tuna
from tuna.records import write_json

HASH_LIMIT = 1 << 30  # inputs larger than this are identified by size and mtime only
# The cluster job and the GPUs an output was made with, as SLURM and CUDA name them.
JOB_ENVIRONMENT = ("SLURM_JOB_ID", "SLURM_NTASKS", "SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS", "CUDA_VISIBLE_DEVICES")


@cache
def code_version() -> dict:
    """tuna's version and, when run from a git checkout, its commit and dirtiness."""
    info = {"tuna": tuna.__version__}
    source = Path(tuna.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if commit.returncode == 0:
            info["git_commit"] = commit.stdout.strip()
            status = subprocess.run(
                ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no", "--", "tuna"],
                capture_output=True, text=True, timeout=10,
            )
            info["git_dirty"] = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_input(path: str | os.PathLike) -> dict:
    path = Path(path)
    if path.is_dir():
        stamp = path / "provenance.json"
        return {"path": str(path), "dir": True, **({"provenance_sha256": sha256_file(stamp)} if stamp.exists() else {})}
    size = path.stat().st_size
    if size > HASH_LIMIT:
        return {"path": str(path), "size": size, "mtime": path.stat().st_mtime}
    return {"path": str(path), "size": size, "sha256": sha256_file(path)}


def stamp_path(output: str | os.PathLike) -> Path:
    output = Path(output)
    return output / "provenance.json" if output.is_dir() else output.with_name(output.name + ".provenance.json")


def stamp(outputs, inputs=(), params: dict | None = None, extra: dict | None = None) -> None:
    """Write a provenance stamp for each output (call after the outputs exist)."""
    job = {name: os.environ[name] for name in JOB_ENVIRONMENT if name in os.environ}
    record = {
        "code": code_version(),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "params": params or {},
        "inputs": [describe_input(p) for p in inputs if p and Path(p).exists()],
        "python": platform.python_version(),
        "host": platform.node(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **({"job": job} if job else {}),
        **(extra or {}),
    }
    for output in outputs:
        write_json(stamp_path(output), record)
