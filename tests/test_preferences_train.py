"""Tuna's ranking objective trains on imported preference data with ties, through `tuna train` (tiny llama)."""

import json

import pytest
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna

WORDS = "one two three four five red green blue the quick brown fox jumps over lazy dog".split()


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "init")


def import_listwise(tmp_path, rows, name="prefs"):
    source = tmp_path / f"{name}.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / f"{name}_ranked.jsonl"
    tuna("import-preferences", source, "--format", "listwise", "--field", "prompt=question",
         "--field", "completions=answers.*.text", "--field", "scores=answers.*.rating", "-o", out)
    return out


def train_log(init, data, out, *options):
    tuna("train", "--init", init, "--data", data, "-o", out, "--mle-weight", 0, "--warmup-steps", 0, *options)
    return json.loads((out / "provenance.json").read_text())


def test_ranking_objective_trains_on_imported_data_with_ties(tmp_path, init):
    rows = [{"question": f"Say {WORDS[i]}.",
             "answers": [{"text": " ".join(WORDS[(i + k) % 9:(i + k) % 9 + 1 + 2 * k]), "rating": rating}
                         for k, rating in enumerate((5, 4, 4, 1))]}  # the middle two tie
            for i in range(4)]
    data = import_listwise(tmp_path, rows)
    stamp = train_log(init, data, tmp_path / "out", "--lr", "1e-2", "--epochs", 5, "--batch-size", 2)
    assert stamp["data"]["kept"] == 4 and stamp["data"]["read"] == 4
    history = [step["loss"] for step in stamp["log"]]
    assert len(history) == 10 and sum(history[-2:]) < 0.8 * sum(history[:2])


def test_a_tie_group_is_the_pairs_between_groups(tmp_path, init):
    """A ranking a, b | c, d (two groups, margin m per group of distance) holds exactly the 4 pairs a>c, a>d,
    b>c, b>d: its L_rank before the first step is the sum of those pairs' L_rank as 2-response rankings."""
    texts = ["one two three", "red green", "the quick brown fox", "lazy dog"]
    grouped = import_listwise(tmp_path, [{"question": "Say it.", "answers": [
        {"text": text, "rating": rating} for text, rating in zip(texts, (2, 2, 1, 1), strict=True)]}], "grouped")
    pairs = [(0, 2), (0, 3), (1, 2), (1, 3)]
    apart = tmp_path / "apart.jsonl"
    apart.write_text("".join(json.dumps({"id": f"p{j}{k}", "instruction": "Say it.", "source": "preferences",
                                         "candidates": [{"text": texts[j]}, {"text": texts[k]}]}) + "\n"
                             for j, k in pairs))
    one = train_log(init, grouped, tmp_path / "one", "--batch-size", 1, "--lr", "1e-9")["log"][0]
    four = train_log(init, apart, tmp_path / "four", "--batch-size", 4, "--lr", "1e-9")["log"][0]
    assert one["rank"] == pytest.approx(4 * four["rank"], rel=1e-5)  # the batch loss is the mean over examples
