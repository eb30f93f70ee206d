"""LMentry: scoring of free-form answers on the real task files, accuracy, robustness, score."""

from __future__ import annotations

import pytest

from tuna.errors import TunaError
from tuna.evaluate import lmentry
from tuna.evaluate.lmentry_scoring import base_task, number_words, score_prediction


@pytest.fixture(scope="module")
def data_dir(shared_data):
    return shared_data / "lmentry" / "data"


@pytest.fixture(scope="module")
def data(data_dir):
    return lmentry.load(data_dir, limit=30)


def example(data_dir, name, key="1"):
    return lmentry.load_file(data_dir, name)[key]


def oracle(name: str, ex: dict) -> str:
    """A correct answer to any LMentry example, built from its metadata."""
    meta, task = ex["metadata"], base_task(name)
    if task == "all_words_from_category":
        return "Yes." if meta["num_distractors"] == 0 else "No."
    if task == "any_words_from_category":
        return "yes" if meta["num_words"] > meta["num_distractors"] else "no"
    if "answer" in meta:
        return f'The answer is "{meta["answer"]}".'
    ch, w = meta.get("letter", ""), meta.get("word", "")
    if task == "word_not_containing":
        return next(x for x in ("dog", "sun", "tree") if ch not in x)
    if task == "sentence_not_containing":
        return next(s for s in ("Birds fly south.", "Rain is wet.") if w not in s.lower())
    return {"starts_with_letter": f"{ch}oo", "ends_with_letter": f"oo{ch}", "word_containing": f"x{ch}x",
            "starts_with_word": f"{w} is what I saw.", "ends_with_word": f"I saw {w}.",
            "sentence_containing": f"I like {w} a lot."}[task]


# (file, example id, answer, expected score) — decided from the task definitions.
CASES = [
    ("more_letters", "1", "chat", 1),                                  # "no" or "chat"
    ("more_letters", "1", 'The word "chat" has more letters.', 1),
    ("more_letters", "1", "No has fewer letters than chat.", 1),
    ("more_letters", "1", "no", 0),
    ("more_letters", "1", "I think chat", 0),                          # no recognised statement
    ("less_letters", "1", "no", 1),
    ("less_letters", "1", "Chat is longer than no.", 1),
    ("bigger_number", "1", "723", 1),                                  # 101 or 723
    ("bigger_number", "1", "Seven hundred and twenty-three.", 1),
    ("bigger_number", "1", "723 is bigger than 101.", 1),
    ("bigger_number", "1", "101", 0),
    ("smaller_number", "1", "101 is smaller than 723", 1),
    ("first_letter", "1", "b", 1),                                     # beach
    ("first_letter", "1", 'The first letter of the word "beach" is "b".', 1),
    ("first_letter", "1", "h", 0),
    ("last_letter", "1", "Beach ends with h.", 1),
    ("first_word", "1", "He", 1),                                      # He has left
    ("last_word", "1", 'The last word of the sentence "He has left" is "left".', 1),
    ("word_after", "1", "glad", 1),                                    # We were glad it was over / were
    ("word_after", "1", "We were glad it was over", 0),
    ("word_before", "1", "John", 1),
    ("first_alphabetically", "1", "beach", 1),                          # beach / silver
    ("first_alphabetically", "1", "Beach comes first alphabetically.", 1),
    ("first_alphabetically", "1", "silver", 0),
    ("homophones", "1", "isle", 1),                                     # aisle: isle / classroom
    ("homophones", "1", "Aisle sounds like isle.", 1),
    ("homophones", "1", "classroom", 0),
    ("rhyming_word", "1", "Wear rhymes with declare.", 1),
    ("rhyming_word", "1", "beer", 0),
    ("most_associated_word", "1", "chicken", 1),
    ("least_associated_word", "1", "The word least associated with vehicles is chicken.", 1),
    ("least_associated_word", "1", "truck", 0),
    ("all_words_from_category", "1", "No.", 1),                         # truck is not an animal
    ("all_words_from_category", "1", "No, truck is not an animal.", 1),
    ("all_words_from_category", "1", "Yes", 0),
    ("any_words_from_category", "1", "no", 1),                          # no animal among 5 distractors
    ("any_words_from_category", "1", "yes", 0),
    ("starts_with_letter", "1", "apple", 1),
    ("starts_with_letter", "1", "banana", 0),
    ("ends_with_letter", "1", "banana", 1),
    ("word_containing", "1", "cat", 1),
    ("word_not_containing", "1", "dog", 1),
    ("word_not_containing", "1", "cat", 0),
    ("starts_with_word", "1", "Villages grow slowly.", 1),
    ("starts_with_word", "1", "Small villages grow slowly.", 0),
    ("ends_with_word", "1", "We visited two villages.", 1),
    ("ends_with_word", "1", "villages", 0),                             # one word is not a sentence
    ("sentence_containing", "1", "We walked along the beach at dawn.", 1),
    ("sentence_containing", "1", "We walked along the shore.", 0),
    ("sentence_not_containing", "1", "We walked along the shore.", 1),
    ("sentence_not_containing", "1", "The beach was empty.", 0),
    ("more_letters", "1", "", 0),
    ("more_letters", "1", "?!", 0),
]


@pytest.mark.parametrize("name,key,answer,expected", CASES)
def test_scorer_decisions_on_real_examples(data_dir, name, key, answer, expected):
    score, certainty = score_prediction(name, answer, example(data_dir, name, key))
    assert score == expected


def test_echoed_prompt_is_ignored(data_dir):
    ex = example(data_dir, "first_letter")
    assert score_prediction("first_letter", ex["input"] + " b", ex) == (1, 1)


def test_number_words():
    assert number_words(723) == "seven hundred and twenty-three"
    assert number_words(40) == "forty" and number_words(100) == "one hundred"


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
    assert result["robustness_aspects"]["argument_order"] == pytest.approx(100 * 2 / 7, abs=0.01)
    assert result["robustness"] == pytest.approx(sum(result["robustness_aspects"].values()) / 4, abs=0.01)
    assert result["lmentry_score"] == pytest.approx(result["accuracy"] * result["robustness"] / 100, abs=0.02)


def test_template_and_adjacent_gaps(data):
    """Right only on template 0 of first_letter: template robustness loses 100/25, adjacency gaps appear."""
    predictions = {f"{n}/{k}": oracle(n, ex) for n, exs in data.items() for k, ex in exs.items()}
    for key, ex in data["first_letter"].items():
        if ex["metadata"]["template_id"] != 0:
            predictions[f"first_letter/{key}"] = "zzz"
    result = lmentry.score(data, predictions)
    assert result["per_task"]["first_letter"]["per_template"] == [100.0, 0.0, 0.0]
    assert result["robustness_aspects"]["template"] == pytest.approx(100 - 100 / 25, abs=0.01)
    gap = 100 - result["per_task"]["first_letter"]["accuracy"]  # pairs first_word/letter, first/last_letter
    assert result["robustness_aspects"]["adjacent_tasks"] == pytest.approx(100 - 2 * gap / 17, abs=0.01)


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
