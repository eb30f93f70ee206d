"""Super-NaturalInstructions metrics: ROUGE-L and exact match, best over references.

Semantics of the official `eval/automatic/evaluation.py` (allenai/natural-instructions),
default (English) track: ROUGE-L F1 with rouge_score's default tokenizer and the
Porter stemmer; exact match after SQuAD-style normalization that keeps articles
(lowercase, drop ASCII punctuation, collapse whitespace). Each instance takes the best
score over its references; a group's score is the mean x 100, rounded to 4 places.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from tuna.rouge import RougeL

_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    return " ".join(text.lower().translate(_PUNCTUATION).split())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def instance_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> list[tuple[float, float]]:
    """(exact match, ROUGE-L F1) of each prediction, best over its references, in [0, 1].

    tuna.rouge gives rouge_score's exact floats; each prediction is tokenized once.
    """
    rouge = RougeL(use_stemmer=True)
    scores = []
    for prediction, refs in zip(predictions, references, strict=True):
        if not refs:
            raise ValueError("an instance has no reference output")
        scores.append((max(exact_match(prediction, r) for r in refs), rouge.score_multi(refs, prediction).fmeasure))
    return scores


def aggregate(scores: Sequence[tuple[float, float]]) -> dict:
    """Mean exact match and ROUGE-L x 100 (the official rounding to 4 places)."""
    n = len(scores)
    return {
        "exact_match": round(100.0 * sum(em for em, _ in scores) / n, 4) if n else 0.0,
        "rougeL": round(100.0 * sum(rl for _, rl in scores) / n, 4) if n else 0.0,
        "instances": n,
    }
