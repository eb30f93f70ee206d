"""Paired bootstrap of the LMentry score delta, resampling examples within each data file.

The LMentry score is not a mean of per-example scores: it combines task accuracies,
template and argument-order accuracies and variant accuracies (tuna.evaluate.lmentry).
A resample of a file's examples only changes how many examples of each kind it holds,
a kind being (template, answer position, model verdict, baseline verdict) since
verdicts are 0/1; so one multinomial draw over a file's kinds is that file's resample,
exactly and cheaply. The score is then recomputed on the drawn counts, as lmentry.score
computes it (the official analysis' rounding included), for both systems at once.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from tuna.errors import TunaError
from tuna.evaluate import lmentry
from tuna.evaluate.significance import Delta, Settings, from_resamples

FIELDS = ("template_id", "answer_index")
# The official analysis rounds before combining: task accuracies to 2 decimals, template
# accuracies to 1, answer-position accuracies to 2, the mean robustness to 1 (lmentry.score).
DIGITS = {"task": 2, "template_id": 1, "answer_index": 2}


def instances(data: dict[str, dict[str, dict]], predictions: dict[str, str]) -> dict[str, dict[str, list]]:
    """Per data file: example id -> [verdict, template_id, answer_index or None], for the
    result file (the bootstrap pairs two models' verdicts by example id)."""
    verdicts = lmentry.verdicts(data, predictions)
    return {name: {key: [verdicts[name][key][0], *(example["metadata"].get(field) for field in FIELDS)]
                   for key, example in examples.items()}
            for name, examples in data.items()}


def _robustness(accuracies: list[np.ndarray]) -> np.ndarray:
    """100 minus the largest gap between any two accuracies (elementwise over resamples)."""
    stacked = np.stack(accuracies)
    return 100.0 - (stacked.max(axis=0) - stacked.min(axis=0))


def score(accuracy: dict[str, np.ndarray], by: dict[tuple[str, str], list[np.ndarray]]) -> np.ndarray:
    """The LMentry score from accuracies (arrays over resamples): `accuracy[file]` and
    `by[(task, field)]`, the accuracies of a task's templates or answer positions."""
    aspects = [
        np.mean([_robustness(by[(t, "answer_index")]) for t in lmentry.ARGUMENT_ORDER_TASKS], axis=0),
        np.mean([_robustness([accuracy[f"{t}_{v}"] for v in variants])
                 for t, variants in lmentry.ARGUMENT_CONTENT_VARIANTS.items()], axis=0),
        np.mean([_robustness(by[(t, "template_id")]) for t in lmentry.TASKS], axis=0),
        np.mean([_robustness([accuracy[a], accuracy[b]]) for a, b in lmentry.ADJACENT_PAIRS], axis=0),
    ]
    robustness = np.round(np.mean(aspects, axis=0), 1)
    return np.mean([accuracy[t] for t in lmentry.TASKS], axis=0) * (robustness / 100)


def _percent(correct: np.ndarray, total: np.ndarray, digits: int) -> np.ndarray:
    """correct / total * 100 rounded as the official analysis rounds it (0 for an empty group)."""
    ratio = np.divide(correct, total, out=np.zeros(correct.shape), where=total > 0)
    return np.round(ratio * 100, digits)


def _file_accuracies(kinds: np.ndarray, counts: np.ndarray, system: int, name: str, accuracy: dict, by: dict):
    """Accuracies of one file's drawn `counts` (resamples x kinds) for verdict column `system`."""
    correct = (kinds[:, system] == 1).astype(bool)
    accuracy[name] = _percent(counts @ correct, counts.sum(axis=1), DIGITS["task"])
    for column, field in enumerate(FIELDS, start=2):
        groups = sorted(set(kinds[:, column]) - {None}, key=str)
        for group in groups:
            member = (kinds[:, column] == group).astype(bool)
            by.setdefault((name, field), []).append(_percent(counts @ (correct & member), counts @ member,
                                                             DIGITS[field]))


def observed_score(instances: dict[str, dict[str, list]]) -> float:
    """The LMentry score of one system's verdicts (`instances` output), unrounded."""
    accuracy, by = {}, {}
    for name in lmentry.FILES:
        kinds, counts = _kinds([(v[0], *v) for v in instances[name].values()])
        _file_accuracies(kinds, counts[None, :], 0, name, accuracy, by)
    return float(score(accuracy, by)[0])


def delta(model: dict[str, dict[str, list]], baseline: dict[str, dict[str, list]],
          settings: Settings = Settings()) -> Delta:
    """The paired bootstrap Delta of the LMentry score, model - baseline.

    Examples are paired by file and id; an example one system lacks is left out.
    """
    keys = {name: sorted(model.get(name, {}).keys() & baseline.get(name, {}).keys()) for name in lmentry.FILES}
    empty = [name for name, shared in keys.items() if not shared]
    if empty:
        raise TunaError(f"LMentry file {empty[0]}: no example scored for both systems (were both evaluated with "
                        "the same --limit-per-task?)")
    rng = np.random.default_rng(settings.seed)
    resampled = {0: ({}, {}), 1: ({}, {})}
    for name, shared in keys.items():
        kinds, counts = _kinds([(model[name][k][0], baseline[name][k][0], *model[name][k][1:]) for k in shared])
        draws = rng.multinomial(len(shared), counts / len(shared), size=settings.resamples)
        for system in (0, 1):
            _file_accuracies(kinds, draws, system, name, *resampled[system])
    observed = (observed_score({name: {k: model[name][k] for k in shared} for name, shared in keys.items()})
                - observed_score({name: {k: baseline[name][k] for k in shared} for name, shared in keys.items()}))
    return from_resamples(observed, score(*resampled[0]) - score(*resampled[1]),
                          sum(map(len, keys.values())), settings)


def _kinds(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows (an object array, one kind per row) and how often each occurs."""
    counted = Counter(rows)
    kinds = np.empty((len(counted), len(rows[0])), dtype=object)
    kinds[:] = list(counted)
    return kinds, np.array(list(counted.values()))
