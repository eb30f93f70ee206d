"""What a finished run says at a glance (Snakemake's `onsuccess`): for each trained model, what
training did on the held-out examples; each Vicuna QA comparison; where the report is.

Only files that exist and parse are read (a summary never fails a run), so a run of any
target prints what it has, and nothing when it has nothing to say. The numbers are the
ones in the files, unrounded there.
"""

from __future__ import annotations

from pathlib import Path

from tuna.config.plan import Plan
from tuna.errors import TunaError
from tuna.records import read_json


def _read(path: Path) -> dict | None:
    """A result file's contents, or None when it is missing or not a finished result."""
    try:
        return read_json(path) if path.is_file() else None
    except TunaError:
        return None


def _arrow(before: dict, after: dict, key: str, digits: int) -> str | None:
    if before.get(key) is None or after.get(key) is None:
        return None
    return f"{before[key]:.{digits}f} -> {after[key]:.{digits}f}"


def _training_line(model: str, path: Path) -> str | None:
    validation = _read(path)
    if not validation or not {"before", "after", "change"} <= validation.keys():
        return None
    before, after, change = validation["before"], validation["after"], validation["change"]
    parts = []
    if accuracy := _arrow(before, after, "pair_accuracy", 3):
        se = change.get("pair_accuracy_se")
        parts.append(f"pair accuracy {accuracy}" + (f" (change {change['pair_accuracy']:+.3f} ± {se:.3f})"
                                                    if se is not None else ""))
    if nll := _arrow(before, after, "nll", 4):
        parts.append(f"NLL {nll}")
    return f"  {model}: on {validation['examples']} held-out examples, " + ", ".join(parts) if parts else None


def _vicuna_line(model: str, baseline: str, path: Path) -> str | None:
    result = _read(path)
    if not result or not all(f"{word}_rate" in result for word in ("win", "lose", "tie")):
        return None
    rates = " / ".join(f"{word} {result[f'{word}_rate']:.1f}%" for word in ("win", "lose", "tie"))
    counted = [f"{result[key]} {key}" for key in ("questions", "unparsed") if result.get(key)]
    return f"  Vicuna QA, {model} vs {baseline}: {rates}" + (f" ({', '.join(counted)})" if counted else "")


def summary(plan: Plan) -> str:
    """The run's summary ('' when none of its files exist yet)."""
    layout = plan.layout
    trained = [line for model in plan.trained() if (line := _training_line(model, Path(layout.validation(model))))]
    vicuna = [line for model in plan.judged_models()
              if (line := _vicuna_line(model, plan.baseline, Path(layout.result(model, "vicuna"))))]
    report = Path(layout.report("table1.md"))
    lines = (["What training did (checkpoints/{model}/validation.json, before the first step -> after the last):"]
             + trained if trained else []) + vicuna
    if report.is_file():
        lines.append(f"Report: {report.parent}/ (table1.md first; `snakemake --report report.html` for the browsable one)")
    return "\n".join(lines)
