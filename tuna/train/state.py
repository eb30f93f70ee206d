"""Resumable training state: saved every `save_every` optimizer steps, tied to its run.

State lives in a directory beside the output: one `step<K>/` (the backend's weights that
learn, optimizer and schedule) and `tuna_state.json` naming it, with the metrics so far
(written last, so a run killed while saving resumes from the previous state). The state
is tied to the data, init checkpoint and settings by a fingerprint; the trainer and the
proxy ranking model's training delete it after a successful run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from tuna import provenance
from tuna.errors import TunaError
from tuna.records import write_json

STATE_FILE = "tuna_state.json"


def fingerprint(init: Path, data: Path, template: str, settings, backend, held_out: Path | None,
                reference: Path | None = None) -> str:
    """What a resumed run must share with the saved state (not save_every); `settings`: a Train or Prm section;
    `reference`: DPO's frozen log-probs."""
    identity = {"settings": {**settings.model_dump(), "save_every": None}, "template": template, "world": backend.world,
                "backend": backend.kind, "data": provenance.describe_input(data),
                "init": provenance.describe_input(init),
                "held_out": provenance.describe_input(held_out) if held_out else None,
                "reference": provenance.describe_input(reference) if reference else None}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def save(backend, state_dir: Path, step: int, fingerprint: str, history: list, before: dict | None) -> None:
    tag = f"step{step}"
    backend.save_state(state_dir / tag)
    backend.barrier()
    if backend.is_main:
        write_json(state_dir / STATE_FILE, {"step": step, "tag": tag, "fingerprint": fingerprint, "history": history,
                                            "validation_before": before})
        for old in state_dir.glob("step*"):
            if old.name != tag:
                shutil.rmtree(old, ignore_errors=True)
    backend.barrier()


def resume(backend, state_dir: Path, fingerprint: str, log) -> tuple[int, list, dict | None]:
    """The step to continue after, the metrics so far and the validation before training."""
    marker = state_dir / STATE_FILE
    if not marker.exists():
        log(f"{state_dir}: no saved state, starting from the beginning")
        return 0, [], None
    state = json.loads(marker.read_text(encoding="utf-8"))
    if state["fingerprint"] != fingerprint:
        raise TunaError(f"{state_dir}: saved by a run with other data, init or settings; "
                        f"delete it to start over, or run without --resume")
    backend.load_state(state_dir / state["tag"])
    return state["step"], state["history"], state.get("validation_before")
