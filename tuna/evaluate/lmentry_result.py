"""`tuna eval-lmentry`: a model's LMentry result from its answers, with every example's verdict
kept for the report's paired bootstrap (its own module, so the prompts do not depend on the
bootstrap's code)."""

from __future__ import annotations

from pathlib import Path

from tuna import provenance
from tuna.records import answers_of, write_json


def score_answers(data_dir: Path, answers: Path, limit_per_task: int | None, model_name: str, out: Path) -> str:
    """Accuracy per task, the four robustness aspects and the LMentry score of the answers; every
    example's verdict is kept (per_instance) for the report's paired bootstrap."""
    from tuna.evaluate import lmentry, lmentry_bootstrap

    data, predictions = lmentry.load(data_dir, limit_per_task), answers_of(answers)
    result = lmentry.score(data, predictions)
    write_json(out, {"benchmark": "lmentry", "model": model_name, "limit_per_task": limit_per_task, **result,
                     "per_instance": lmentry_bootstrap.instances(data, predictions)})
    provenance.stamp([out], inputs=[answers], params={"limit_per_task": limit_per_task})
    return (f"{out}: LMentry score {result['lmentry_score']:.1f} (accuracy {result['accuracy']:.1f} x "
            f"robustness {result['robustness']:.1f}, rounded as upstream); {result['missing']} answers missing")
