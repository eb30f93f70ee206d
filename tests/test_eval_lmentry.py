"""LMentry: official verdicts on the real task files, accuracy, robustness, score."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest
from lmentry_cases import CASES, Q

from tuna.errors import TunaError
from tuna.evaluate import lmentry
from tuna.evaluate.lmentry_scoring import base_task, score_prediction


@pytest.fixture(scope="module")
def data_dir(shared_data):
    return shared_data / "lmentry" / "data"


@pytest.fixture(scope="module")
def data(data_dir):
    return lmentry.load(data_dir, limit=30)


@cache
def _file(data_dir, name):
    return lmentry.load_file(data_dir, name)


def oracle(name: str, ex: dict) -> str:
    """A correct answer to any LMentry example, built from its metadata."""
    meta, task = ex["metadata"], base_task(name)
    if task == "all_words_from_category":
        return "Yes." if meta["num_distractors"] == 0 else "No."
    if task == "any_words_from_category":
        return "yes" if meta["num_words"] > meta["num_distractors"] else "no"
    if "answer" in meta:
        return str(meta["answer"])
    ch, w = meta.get("letter", ""), meta.get("word", "")
    if task == "word_not_containing":
        return next(x for x in ("dog", "sun", "tree") if ch not in x)
    if task == "sentence_not_containing":
        return next(s for s in ("Birds fly south.", "Rain is wet.") if w not in s.lower())
    return {"starts_with_letter": f"{ch}oo", "ends_with_letter": f"oo{ch}", "word_containing": f"x{ch}x",
            "starts_with_word": f"{w} is what I saw.", "ends_with_word": f"I saw {w}.",
            "sentence_containing": f"I like {w} a lot."}[task]


@pytest.mark.parametrize("name,key,template,answer,score,certainty,why", CASES,
                         ids=[f"{c[0]}/{c[1]}:{c[3][:40]!r}" for c in CASES])
def test_official_verdicts(data_dir, name, key, template, answer, score, certainty, why):
    """The case table (tests/lmentry_cases.py): verdict and certainty as the official scorer gives them."""
    example = _file(data_dir, name)[key]
    assert example["metadata"]["template_id"] == template
    assert score_prediction(name, answer.replace(Q, example["input"]), example) == (score, certainty), why


def test_case_table_covers_every_task_and_variant():
    per_task = Counter(c[0] for c in CASES if c[0] in lmentry.TASKS)
    assert set(per_task) == set(lmentry.TASKS) and min(per_task.values()) >= 20  # on each task's own file
    assert {c[0] for c in CASES} == set(lmentry.FILES)  # every robustness variant file too
    assert {c[2] for c in CASES if c[0] == "more_letters"} == {0, 1, 2}


def test_all_41_files_load_and_limit_spreads_over_templates(data_dir, data):
    assert len(lmentry.FILES) == 41 and len(lmentry.TASKS) == 25
    assert all((data_dir / f"{name}.json").exists() for name in lmentry.FILES)
    templates = [ex["metadata"]["template_id"] for ex in data["bigger_number"].values()]
    assert len(templates) == 30 and templates.count(0) == templates.count(1) == templates.count(2) == 10
    assert len(lmentry.load_file(data_dir, "ends_with_letter")) == 69


def test_prompts_are_the_inputs_with_file_scoped_ids(data):
    records = lmentry.prompts(data)
    assert len(records) == sum(len(v) for v in data.values())
    first = records[0]
    name, key = first.id.split("/")
    assert first.instruction == data[name][key]["input"]


def test_oracle_scores_100_everywhere(data):
    predictions = {f"{n}/{k}": oracle(n, ex) for n, exs in data.items() for k, ex in exs.items()}
    result = lmentry.score(data, predictions)
    assert result["accuracy"] == 100.0 and result["robustness"] == 100.0 and result["lmentry_score"] == 100.0
    assert result["missing"] == 0


def test_always_first_option_has_no_argument_order_robustness(data):
    """Answering the first of two options is right exactly when the answer comes first."""
    predictions = {}
    for name, exs in data.items():
        for key, ex in exs.items():
            meta = ex["metadata"]
            if "answer_index" in meta and "word1" in meta:
                predictions[f"{name}/{key}"] = meta["word1"]
            elif "n1" in meta:
                predictions[f"{name}/{key}"] = str(meta["n1"])
            else:
                predictions[f"{name}/{key}"] = oracle(name, ex)
    result = lmentry.score(data, predictions)
    for task in ("more_letters", "less_letters", "bigger_number", "smaller_number", "first_alphabetically"):
        accuracy = result["per_task"][task]["accuracy"]
        assert 0 < accuracy < 100
    # Per task, accuracy is 100 when the answer is first and 0 when second: gap 100 -> robustness 0.
    assert result["robustness_aspects"]["argument_order"] == round(100 * 2 / 7, 1)
    assert result["robustness"] == pytest.approx(sum(result["robustness_aspects"].values()) / 4, abs=0.1)
    assert result["lmentry_score"] == pytest.approx(result["accuracy"] * result["robustness"] / 100, abs=0.1)


def test_score_rounds_in_the_official_order(data_dir):
    """A synthetic model, right everywhere but first_letter's templates 1 and 2 (3 examples each).

    By hand, as lmentry/analysis computes it: first_letter is 33.33 (2 decimals); accuracy
    (24 x 100 + 33.33) / 25 = 97.3332; robustness aspects 100, 100, template (24 x 100 + 0) / 25
    = 96, adjacent tasks (15 x 100 + 2 x 33.33) / 17 = 92.1565 (first_word/letter and
    first/last_letter lose 66.67); robustness mean 97.0391 is rounded to 97.0 *before*
    the score: 97.3332 x 0.970 = 94.41 -> 94.4 (unrounded robustness would give 94.5).
    """
    data = lmentry.load(data_dir, limit=9)
    predictions = {f"{n}/{k}": oracle(n, ex) for n, exs in data.items() for k, ex in exs.items()}
    for key, ex in data["first_letter"].items():
        if ex["metadata"]["template_id"] != 0:
            predictions[f"first_letter/{key}"] = "zzz"
    result = lmentry.score(data, predictions)
    assert result["per_task"]["first_letter"]["per_template"] == [100.0, 0.0, 0.0]
    assert result["per_task"]["first_letter"]["accuracy"] == 33.33
    assert result["robustness_aspects"] == {"argument_order": 100.0, "argument_content": 100.0, "template": 96.0,
                                            "adjacent_tasks": 92.2}
    assert (result["accuracy"], result["robustness"], result["lmentry_score"]) == (97.3, 97.0, 94.4)


def test_template_accuracy_has_one_decimal_and_task_accuracy_two(data_dir):
    """ends_with_letter has 23 examples per template: 1 right of 23 is 4.3, and of 69 is 1.45."""
    data = lmentry.load(data_dir, limit=69)
    examples = data["ends_with_letter"]
    first = next(k for k, ex in examples.items() if ex["metadata"]["template_id"] == 0)
    result = lmentry.score(data, {f"ends_with_letter/{first}": oracle("ends_with_letter", examples[first])})
    assert result["per_task"]["ends_with_letter"]["per_template"] == [4.3, 0.0, 0.0]
    assert result["per_task"]["ends_with_letter"]["accuracy"] == 1.45
    assert result["missing"] == sum(len(v) for v in data.values()) - 1


def test_bad_data_file_names_the_file(tmp_path):
    (tmp_path / "first_letter.json").write_text('{"examples": {"1": {"input": "x"}}}')
    with pytest.raises(TunaError, match=r"first_letter.json: examples.1: needs 'input' and 'metadata.template_id'"):
        lmentry.load_file(tmp_path, "first_letter")


def test_download_pins_match_the_shared_copies(data_dir):
    """The git blob sha1 pins of the 41 files are those of the real upstream files."""
    from tuna.datasets import verify_checksum

    assert set(lmentry.FILE_BLOBS) == set(lmentry.FILES)
    for name in lmentry.FILES:
        verify_checksum(data_dir / f"{name}.json", git_sha1=lmentry.FILE_BLOBS[name])  # raises on mismatch
