"""LMentry (Efrat et al., 2022): 25 elementary tasks, accuracy x robustness.

The 41 upstream data files are the 25 tasks plus argument-content variants used by
robustness. LMentry score = accuracy x robustness / 100, where accuracy is the mean
over the 25 tasks and robustness the mean of four aspects, each 100 minus the largest
accuracy gap it looks at (averaged over the tasks/pairs of that aspect):

- argument order: answer given first vs second (two-option tasks);
- argument content: a task's variants (e.g. length difference 1 vs 3+);
- template: the three phrasings of each task;
- adjacent tasks: pairs of closely related tasks (first/last letter, ...).
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from statistics import mean

from tuna.errors import TunaError
from tuna.evaluate.lmentry_scoring import score_prediction
from tuna.records import Instruction

TASKS = [
    "all_words_from_category", "any_words_from_category", "bigger_number", "ends_with_letter",
    "ends_with_word", "first_alphabetically", "first_letter", "first_word", "homophones", "last_letter",
    "last_word", "least_associated_word", "less_letters", "more_letters", "most_associated_word",
    "rhyming_word", "sentence_containing", "sentence_not_containing", "smaller_number",
    "starts_with_letter", "starts_with_word", "word_after", "word_before", "word_containing",
    "word_not_containing",
]
ARGUMENT_ORDER_TASKS = ["more_letters", "less_letters", "first_alphabetically", "rhyming_word", "homophones",
                        "bigger_number", "smaller_number"]
ARGUMENT_CONTENT_VARIANTS = {
    "first_alphabetically": ["far_first_letter", "different_first_letter", "consecutive_first_letter",
                             "same_first_letter"],
    "all_words_from_category": ["0_distractors", "1_distractors", "2_distractors"],
    "any_words_from_category": ["5_distractors", "4_distractors", "3_distractors"],
    "rhyming_word": ["orthographically_similar", "orthographically_different"],
    "more_letters": ["length_diff_3plus", "length_diff_1"],
    "less_letters": ["length_diff_3plus", "length_diff_1"],
}
ADJACENT_PAIRS = [
    ("bigger_number", "smaller_number"), ("more_letters", "less_letters"), ("word_after", "word_before"),
    ("most_associated_word", "least_associated_word"), ("any_words_from_category", "all_words_from_category"),
    ("sentence_containing", "sentence_not_containing"), ("word_containing", "word_not_containing"),
    ("starts_with_word", "starts_with_letter"), ("ends_with_word", "ends_with_letter"),
    ("sentence_containing", "word_containing"), ("sentence_not_containing", "word_not_containing"),
    ("first_word", "first_letter"), ("last_word", "last_letter"), ("starts_with_word", "ends_with_word"),
    ("starts_with_letter", "ends_with_letter"), ("first_word", "last_word"), ("first_letter", "last_letter"),
]
FILES = TASKS + [f"{task}_{variant}" for task, variants in ARGUMENT_CONTENT_VARIANTS.items() for variant in variants]
SEPARATOR = "/"  # prompt ids are "<file>/<example id>"


def load_file(data_dir: str | Path, name: str) -> dict[str, dict]:
    """Examples of one data file, keyed by their upstream id."""
    path = Path(data_dir) / f"{name}.json"
    try:
        examples = json.loads(path.read_text(encoding="utf-8"))["examples"]
    except OSError as exc:
        raise TunaError(f"{path}: cannot read ({exc.strerror})") from exc
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise TunaError(f"{path}: not an LMentry data file ({exc})") from exc
    for key, example in examples.items():
        if "input" not in example or "template_id" not in example.get("metadata", {}):
            raise TunaError(f"{path}: examples.{key}: needs 'input' and 'metadata.template_id'")
    return examples


def select(examples: dict[str, dict], limit: int | None) -> dict[str, dict]:
    """At most `limit` examples, spread evenly over the templates (all when limit is None)."""
    if limit is None:
        return examples
    by_template = defaultdict(list)
    for key, example in examples.items():
        by_template[example["metadata"]["template_id"]].append(key)
    keys = [key for round_ in zip(*by_template.values()) for key in round_][:limit]  # round-robin
    return {key: examples[key] for key in keys}


def load(data_dir: str | Path, limit: int | None = None) -> dict[str, dict[str, dict]]:
    """All 41 files: file name -> {example id -> example}."""
    return {name: select(load_file(data_dir, name), limit) for name in FILES}


def prompts(data: dict[str, dict[str, dict]]) -> list[Instruction]:
    """0-shot prompts: the example's input as the instruction."""
    return [Instruction(id=f"{name}{SEPARATOR}{key}", instruction=example["input"])
            for name, examples in data.items() for key, example in examples.items()]


def _accuracy(scores: list[int]) -> float:
    return 100.0 * sum(scores) / len(scores) if scores else 0.0


def _robustness(accuracies: list[float]) -> float:
    """100 minus the largest gap between any two accuracies."""
    return 100.0 - max((abs(a - b) for a, b in combinations(accuracies, 2)), default=0.0)


def score(data: dict[str, dict[str, dict]], predictions: dict[str, str]) -> dict:
    """Accuracy per task and template, the four robustness aspects, and the LMentry score.

    A missing prediction scores 0 (as an empty answer would).
    """
    per_file = {}
    for name, examples in data.items():
        rows = []
        for key, example in examples.items():
            text = predictions.get(f"{name}{SEPARATOR}{key}", "")
            value, certain = score_prediction(name, text, example)
            rows.append((value, certain, example["metadata"]))
        per_file[name] = rows
    accuracy = {name: _accuracy([v for v, _, _ in rows]) for name, rows in per_file.items()}

    def by(name: str, field: str) -> list[float]:
        groups = defaultdict(list)
        for value, _, meta in per_file[name]:
            groups[meta[field]].append(value)
        return [_accuracy(groups[k]) for k in sorted(groups)]

    aspects = {
        "argument_order": mean(_robustness(by(t, "answer_index")) for t in ARGUMENT_ORDER_TASKS),
        "argument_content": mean(_robustness([accuracy[f"{t}_{v}"] for v in variants])
                                 for t, variants in ARGUMENT_CONTENT_VARIANTS.items()),
        "template": mean(_robustness(by(t, "template_id")) for t in TASKS),
        "adjacent_tasks": mean(_robustness([accuracy[a], accuracy[b]]) for a, b in ADJACENT_PAIRS),
    }
    total_accuracy = mean(accuracy[t] for t in TASKS)
    robustness = mean(aspects.values())
    return {
        "lmentry_score": round(total_accuracy * robustness / 100, 2),
        "accuracy": round(total_accuracy, 2),
        "robustness": round(robustness, 2),
        "robustness_aspects": {k: round(v, 2) for k, v in aspects.items()},
        "per_task": {t: {"accuracy": round(accuracy[t], 2),
                         "per_template": [round(a, 2) for a in by(t, "template_id")],
                         "certainty": round(_accuracy([c for _, c, _ in per_file[t]]), 2),
                         "examples": len(per_file[t])} for t in TASKS},
        "variants": {name: round(accuracy[name], 2) for name in FILES if name not in TASKS},
        "missing": sum(f"{name}{SEPARATOR}{key}" not in predictions
                       for name, examples in data.items() for key in examples),
    }
