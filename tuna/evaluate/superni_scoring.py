"""Super-NaturalInstructions scoring, as the official evaluation script scores: exact match and
ROUGE-L per instance, aggregated overall, per task and per category (and BERTScore when asked).

Apart from the prompts (tuna.evaluate.superni), so that a change to the scorer re-scores
answers without asking any model again.
"""

from __future__ import annotations

from pathlib import Path

from tuna.config.settings import SuperNI
from tuna.evaluate import bertscore, metrics
from tuna.evaluate.superni import Task, load_tasks, read_task_names


def category_key(category: str) -> str:
    """'Textual Entailment' -> 'textual_entailment', as the official script names groups."""
    return "_".join(category.lower().split())


def score(tasks: list[Task], predictions: dict[str, str], bertscore_model: bertscore.BertScoreModel | None = None) -> dict:
    """Official metrics overall, per task and per category; a missing prediction scores as ''.

    With a BERTScore model, also its precision/recall/F1 overall and F1 per instance.
    """
    rows = [(task, instance) for task in tasks for instance in task.instances]
    texts = [predictions.get(instance["id"], "") for _, instance in rows]
    scores = metrics.instance_scores(texts, [instance["output"] for _, instance in rows])
    result = _official(rows, scores)
    result["missing"] = sum(instance["id"] not in predictions for _, instance in rows)
    if bertscore_model is not None:
        bert = bertscore.instance_scores(texts, [instance["output"] for _, instance in rows], bertscore_model)
        result["bertscore"] = {"model": bertscore_model.name, "layers": bertscore_model.layers,
                               **bertscore.aggregate(bert)}
        for (task, instance), (_, _, f1) in zip(rows, bert, strict=True):
            result["per_instance"][task.name][instance["id"]]["bertscore_f1"] = f1
    return result


def _official(rows: list[tuple[Task, dict]], scores: list[tuple[float, float]]) -> dict:
    """Exact match and ROUGE-L overall, per category and per task, and each instance's scores."""
    by_task: dict[str, list] = {}
    by_category: dict[str, list] = {}
    per_instance: dict[str, dict] = {}
    for (task, instance), instance_score in zip(rows, scores, strict=True):
        by_task.setdefault(task.name, []).append(instance_score)
        by_category.setdefault(category_key(task.category), []).append(instance_score)
        per_instance.setdefault(task.name, {})[instance["id"]] = dict(zip(("exact_match", "rougeL"), instance_score, strict=True))
    return {
        **metrics.aggregate(scores),
        "per_category": {name: metrics.aggregate(group) for name, group in sorted(by_category.items())},
        "per_task": {name: metrics.aggregate(group) for name, group in by_task.items()},
        "per_instance": per_instance,  # task -> instance id -> scores in [0, 1], for paired bootstraps
    }


def score_answers(tasks_dir: Path, split: Path, answers: dict[int, Path], settings: SuperNI,
                  bertscore_batch_size: int, model_name: str, out: Path) -> str:
    """ROUGE-L and exact match of Super-NI answers (shots -> answers file), overall, per task and
    category, and BERTScore with `settings.bertscore_model`; every instance's scores kept for
    the report's bootstrap."""
    from tuna import provenance
    from tuna.records import answers_of, write_json

    bert = (bertscore.BertScoreModel(settings.bertscore_model, settings.bertscore_layers, bertscore_batch_size)
            if settings.bertscore_model else None)
    tasks = load_tasks(tasks_dir, read_task_names(split), settings.instances_per_task)
    shots = {str(k): score(tasks, answers_of(path), bert) for k, path in sorted(answers.items())}
    write_json(out, {"benchmark": "superni", "model": model_name, "tasks": len(tasks),
                     "instances_per_task": settings.instances_per_task, "shots": shots})
    provenance.stamp([out], inputs=[split, *answers.values()],
                     params=settings.model_dump(include={"instances_per_task", "bertscore_model", "bertscore_layers"}))
    return f"{out}: " + ", ".join(f"{k}-shot ROUGE-L {v['rougeL']:.2f} EM {v['exact_match']:.2f}"
                                  + (f" BERTScore F1 {v['bertscore']['f1']:.2f}" if "bertscore" in v else "")
                                  for k, v in shots.items())
