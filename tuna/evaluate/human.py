"""Human evaluation (the paper's Table 2): annotators rank the models' Vicuna answers.

Export writes, per question, the answers of the selected models in a seeded random
order under neutral labels (Response 1..k) plus empty rank columns; the label->model
key goes to a separate file that annotators never see. Import reads the filled-in
ranks (1 = best) and gives the answer at rank i the score `top - i` (6 - i in the
paper), averaged per model.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

from tuna.errors import TunaError
from tuna.evaluate.vicuna import Question
from tuna.records import atomic_output


def export(questions: list[Question], answers: dict[str, dict[str, str]], sheet: str | Path, key: str | Path,
           seed: int = 0) -> int:
    """Write the annotation sheet and its key; return the number of questions exported."""
    models = list(answers)
    rng = random.Random(seed)
    labels = [f"response_{i}" for i in range(1, len(models) + 1)]
    sheet_rows, key_rows = [], []
    for question in questions:
        missing = [m for m in models if question.id not in answers[m]]
        if missing:
            raise TunaError(f"model '{missing[0]}' has no answer to question {question.id}")
        order = rng.sample(models, len(models))
        sheet_rows.append({"question_id": question.id, "question": question.text,
                           **{label: answers[m][question.id] for label, m in zip(labels, order)},
                           **{f"rank_{label}": "" for label in labels}})
        key_rows += [{"question_id": question.id, "label": label, "model": m} for label, m in zip(labels, order)]
    _write_csv(sheet, sheet_rows)
    _write_csv(key, key_rows)
    return len(sheet_rows)


def _write_csv(path: str | Path, rows: list[dict]) -> None:
    with atomic_output(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["question_id"])
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: str | Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise TunaError(f"{path}: cannot read ({exc.strerror})") from exc


def import_ranks(sheet: str | Path, key: str | Path, top: int = 6) -> dict[str, dict]:
    """Mean score (top - rank) and mean rank per model from a filled-in sheet."""
    labels = {(row["question_id"], row["label"]): row["model"] for row in _read_csv(key)}
    scores, ranks = defaultdict(list), defaultdict(list)
    for line, row in enumerate(_read_csv(sheet), start=2):
        for column, value in row.items():
            if not column.startswith("rank_") or not (value or "").strip():
                continue
            model = labels.get((row["question_id"], column[len("rank_"):]))
            if model is None:
                raise TunaError(f"{sheet}:{line}: {column}: no such response in the key {key}")
            try:
                rank = int(value)
            except ValueError:
                raise TunaError(f"{sheet}:{line}: {column}: rank must be a whole number, got {value!r}") from None
            if not 1 <= rank < top:
                raise TunaError(f"{sheet}:{line}: {column}: rank {rank} outside 1..{top - 1}")
            scores[model].append(top - rank)
            ranks[model].append(rank)
    if not scores:
        raise TunaError(f"{sheet}: no ranks filled in")
    return {m: {"score": round(sum(s) / len(s), 3), "mean_rank": round(sum(ranks[m]) / len(ranks[m]), 3),
                "ratings": len(s)} for m, s in scores.items()}
