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

import numpy as np

from tuna.errors import TunaError
from tuna.evaluate.lmentry_scoring import score_prediction
from tuna.records import Instruction

TASKS = [  # the official order (`core_tasks`): means are summed in it, as upstream
    "sentence_containing", "sentence_not_containing", "word_containing", "word_not_containing",
    "most_associated_word", "least_associated_word", "any_words_from_category", "all_words_from_category",
    "first_alphabetically", "more_letters", "less_letters", "bigger_number", "smaller_number", "rhyming_word",
    "homophones", "word_after", "word_before", "starts_with_word", "ends_with_word", "starts_with_letter",
    "ends_with_letter", "first_word", "last_word", "first_letter", "last_letter",
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
# Upstream pin: aviaefrat/lmentry at this commit; each file's git blob sha1 is checked on download.
UPSTREAM_COMMIT = "646ae9080dad00a194fa32cb0f330d7acf3ce60c"
FILE_URL = "https://raw.githubusercontent.com/aviaefrat/lmentry/{commit}/data/{name}.json"
FILE_BLOBS = {
    "all_words_from_category": "683a8ef5b8381c77cf565ca19e9d4984569e815f",
    "all_words_from_category_0_distractors": "b4716d9d525e4471318b5abee6941ac5c629b7c7",
    "all_words_from_category_1_distractors": "6f1aa91aac005492d61d397b98e9756660cba161",
    "all_words_from_category_2_distractors": "fe81d3635936eb8b8354c2b429cf68c88c3a640f",
    "any_words_from_category": "af54dac60e0f5a2defa45477b40fa5982ded7216",
    "any_words_from_category_3_distractors": "1573a382ca911771e434957849f9119a5270c07f",
    "any_words_from_category_4_distractors": "cfb3ec9bf1930c470b1cb1044062eb0abadd3d3a",
    "any_words_from_category_5_distractors": "b7235eb8b7e7d71ece56abe9395cef009a1f0518",
    "bigger_number": "b928b3297aaf0f95aabd0cc9a3f4fcf47d8002c5",
    "ends_with_letter": "d0c455b497730591d27b3cfbf4d54f1735aa4438",
    "ends_with_word": "84d0fb9e0451b0a1c62e8346e3687067e2f0012c",
    "first_alphabetically": "e69d8bc5d1f4bf47707188b7bf2da11939493ecd",
    "first_alphabetically_consecutive_first_letter": "809874a5940ad731529406f80b5d4eb89aae43c4",
    "first_alphabetically_different_first_letter": "73dc6db1802b37c2cd3328f5895fd96a2634d813",
    "first_alphabetically_far_first_letter": "302f998371e5a1a6da283c84e6229ff15078d42e",
    "first_alphabetically_same_first_letter": "dae509f6e1478a8b1b0d4b41d0a4f34f1547fefb",
    "first_letter": "832d32bab2a0db6068bca1fabae732e17ba22879",
    "first_word": "14ab09b7bd3a72f4b33ddf85b35a4717b3e687f7",
    "homophones": "cab8026f02db627b70991a518825a36882d409e9",
    "last_letter": "bb70b315b73c662b2c738e0f8f5a72f667269246",
    "last_word": "0d9241e200455be9f7ff622d7476a699ed090cf4",
    "least_associated_word": "9a1367d14380f2e1325c6ee1b10be0d2d3c20e37",
    "less_letters": "d1f4db0dacae8c1e432ff9bf6da3e80cac49be07",
    "less_letters_length_diff_1": "fa12d3b4d81e765b75dc9340624f355797f58e2b",
    "less_letters_length_diff_3plus": "eea917005458072d2bd1a7d6082f58f73827f8b8",
    "more_letters": "bde88187afb72c7065aef15fed8121ed820a155f",
    "more_letters_length_diff_1": "8983a1155815b8eff763edc97382bb450fae6a3e",
    "more_letters_length_diff_3plus": "9766cd20ed40be012a691d26c92bb10f746d3c35",
    "most_associated_word": "2c26aa7fbf90d898eafec6fedf0823cd255507d1",
    "rhyming_word": "e9d2a737b7a6769f68aee4b6da1811d4995b2507",
    "rhyming_word_orthographically_different": "6725f046ff44c47203ac40e4efe9ced05c389339",
    "rhyming_word_orthographically_similar": "4433fe5af744940143c25b0fe24a9137f54bbd06",
    "sentence_containing": "2ad8ace70881e10287adc3a3a0acb331e8143e56",
    "sentence_not_containing": "97d54081581ef7cb917300b08f7c00638ec25ce6",
    "smaller_number": "cdafc0ae3cd497ca8e73cffa3ad3b358966447a5",
    "starts_with_letter": "7957ba85c81daa92334aed0166071d8681e777d3",
    "starts_with_word": "21bb8cb6eba8201e5562c97103d06a82b14b0e52",
    "word_after": "b5de98ce2a6bde4d9d9b6c542dce84b64d8af103",
    "word_before": "0b3a78194ee3cb77d5430bf9167d760d543b2ca4",
    "word_containing": "83def870f2a7492be5a7d86925c99d09eb553572",
    "word_not_containing": "65df0f979d4d9fb5fc3def709eed26b831d3f8d2",
}


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
    keys = [key for round_ in zip(*by_template.values(), strict=False) for key in round_][:limit]  # round-robin
    return {key: examples[key] for key in keys}


def load(data_dir: str | Path, limit: int | None = None) -> dict[str, dict[str, dict]]:
    """All 41 files: file name -> {example id -> example}."""
    return {name: select(load_file(data_dir, name), limit) for name in FILES}


def prompts(data: dict[str, dict[str, dict]]) -> list[Instruction]:
    """0-shot prompts: the example's input as the instruction."""
    return [Instruction(id=f"{name}{SEPARATOR}{key}", instruction=example["input"])
            for name, examples in data.items() for key, example in examples.items()]


def _percent(hits: int, total: int, digits: int) -> float:
    """(hits / total) * 100 rounded, in the official order (0 for an empty group)."""
    return round(hits / total * 100, digits) if total else 0.0


def _robustness(accuracies: list[float]) -> float:
    """100 minus the largest gap between any two accuracies."""
    return 100 - max((abs(a - b) for a, b in combinations(accuracies, 2)), default=0)


def verdicts(data: dict[str, dict[str, dict]], predictions: dict[str, str]) -> dict[str, dict[str, tuple[int, int]]]:
    """(score, certainty) of every example: file name -> {example id -> verdict}.

    A missing prediction is scored as an empty answer (0: the official analysis needs them all).
    """
    return {name: {key: score_prediction(name, predictions.get(f"{name}{SEPARATOR}{key}", ""), example)
                   for key, example in examples.items()}
            for name, examples in data.items()}


def _group_accuracy(data: dict[str, dict], scores: dict[str, tuple[int, int]], field: str,
                    digits: int) -> list[float]:
    """Accuracy per value of a metadata field (template: 1 decimal, answer position: 2, as upstream).

    Only values present count: a subset (limit_per_task) may lack an answer position.
    """
    hits, counts = defaultdict(int), defaultdict(int)
    for key, example in data.items():
        counts[example["metadata"][field]] += 1
        hits[example["metadata"][field]] += scores[key][0]
    return [_percent(hits[k], counts[k], digits) for k in sorted(counts)]


def score(data: dict[str, dict[str, dict]], predictions: dict[str, str]) -> dict:
    """Accuracy per task and template, the four robustness aspects, and the LMentry score.

    The order of operations is the official analysis' (`lmentry/analysis/`): template
    accuracies are rounded to 1 decimal and task accuracies to 2 before they enter a
    robustness gap or a mean; the mean of the four aspects is rounded to 1 decimal before
    the score = accuracy x (robustness / 100); score and accuracy are then rounded to 1.
    """
    scored = verdicts(data, predictions)
    accuracy = {name: _percent(sum(v for v, _ in scored[name].values()), len(scored[name]), 2) for name in data}
    aspects = {
        "argument_order": np.mean([_robustness(_group_accuracy(data[t], scored[t], "answer_index", 2))
                                   for t in ARGUMENT_ORDER_TASKS]),
        "argument_content": np.mean([_robustness([accuracy[f"{t}_{v}"] for v in variants])
                                     for t, variants in ARGUMENT_CONTENT_VARIANTS.items()]),
        "template": np.mean([_robustness(_group_accuracy(data[t], scored[t], "template_id", 1)) for t in TASKS]),
        "adjacent_tasks": np.mean([_robustness([accuracy[a], accuracy[b]]) for a, b in ADJACENT_PAIRS]),
    }
    total_accuracy = np.mean([accuracy[t] for t in TASKS])
    robustness = np.mean(list(aspects.values())).round(1)
    return {
        "lmentry_score": float(round(total_accuracy * (robustness / 100), 1)),
        "accuracy": float(round(total_accuracy, 1)),
        "robustness": float(round(robustness, 1)),
        "robustness_aspects": {k: float(round(v, 1)) for k, v in aspects.items()},
        "per_task": {t: {"accuracy": accuracy[t],
                         "per_template": _group_accuracy(data[t], scored[t], "template_id", 1),
                         "certainty": _percent(sum(c for _, c in scored[t].values()), len(scored[t]), 2),
                         "examples": len(scored[t])} for t in TASKS},
        "variants": {name: accuracy[name] for name in FILES if name not in TASKS},
        "missing": sum(f"{name}{SEPARATOR}{key}" not in predictions
                       for name, examples in data.items() for key in examples),
    }


def fetch(out: Path) -> str:
    """The 41 LMentry data files from the pinned commit, each checked by its git blob sha1."""
    from tuna import datasets, provenance

    commit = UPSTREAM_COMMIT
    digests = datasets.fetch_all({n: (FILE_URL.format(commit=commit, name=n), FILE_BLOBS[n]) for n in FILES}, out)
    provenance.stamp([out], params={"commit": commit}, extra={"sha256": digests})
    return f"{out}: {len(digests)} LMentry files at aviaefrat/lmentry@{commit}"


def write_prompts(data_dir: Path, limit_per_task: int | None, out: Path) -> str:
    """LMentry's prompts, at most `limit_per_task` per data file (spread over templates)."""
    from tuna import provenance
    from tuna.records import write_jsonl

    count = write_jsonl(out, prompts(load(data_dir, limit_per_task)))
    provenance.stamp([out], inputs=[data_dir], params={"benchmark": "lmentry", "limit_per_task": limit_per_task})
    return f"{out}: {count} lmentry prompts"
