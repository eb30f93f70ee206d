"""tuna.rouge gives exactly rouge_score's ROUGE-L (precision, recall and F1, bit for bit)."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from rouge_score.rouge_scorer import RougeScorer

from tuna.rouge import RougeL

# Words that exercise the tokenizer: case, digits, punctuation, stems, non-ASCII, empties.
WORDS = (
    "The the THE cat cats running runs ran run. quickly quick, 42 4.2 3rd don't can't e-mail "
    "naïve café über 東京 -- ... !? (parenthesis) [brackets] generalization generalize "
    "generously happiness happy happily a an of to in is was were been being x y z"
).split()


def random_text(rng: random.Random) -> str:
    n = rng.choice([0, 1, 2, 5, 20, 60])
    separators = [" ", " ", " ", "\n", "\t", ", ", "-", ""]
    return "".join(rng.choice(WORDS) + rng.choice(separators) for _ in range(n))


def assert_same(ours, theirs):
    assert (ours.precision, ours.recall, ours.fmeasure) == (theirs.precision, theirs.recall, theirs.fmeasure)


@pytest.mark.parametrize("use_stemmer", [False, True])
def test_random_pairs_match_rouge_score(use_stemmer):
    rng = random.Random(use_stemmer)
    ours, theirs = RougeL(use_stemmer), RougeScorer(["rougeL"], use_stemmer=use_stemmer)
    for _ in range(2000):
        target, prediction = random_text(rng), random_text(rng)
        assert_same(ours.score(target, prediction), theirs.score(target, prediction)["rougeL"])


def real_texts(shared_data) -> list[str]:
    alpaca = json.loads((shared_data / "alpaca" / "alpaca_data_head.json").read_text())
    texts = [example[key] for example in alpaca for key in ("instruction", "input", "output")]
    for task in sorted((shared_data / "super_ni" / "tasks").glob("*.json")):
        instances = json.loads(task.read_text())["Instances"][:20]
        texts += [instance["input"] for instance in instances]
    return texts


@pytest.mark.parametrize("use_stemmer", [False, True])
def test_real_pairs_match_rouge_score(shared_data, use_stemmer):
    texts = real_texts(shared_data)
    rng = random.Random(7)
    pairs = [(rng.choice(texts), rng.choice(texts)) for _ in range(1500)]
    pairs += list(itertools.pairwise(texts))  # neighbours: related texts, non-trivial LCS
    ours, theirs = RougeL(use_stemmer), RougeScorer(["rougeL"], use_stemmer=use_stemmer)
    for target, prediction in pairs:
        assert_same(ours.score(target, prediction), theirs.score(target, prediction)["rougeL"])


def test_score_multi_matches_on_super_ni_references(shared_data):
    """Super-NI evaluation: each prediction against all references of an instance."""
    ours, theirs = RougeL(use_stemmer=True), RougeScorer(["rougeL"], use_stemmer=True)
    checked = 0
    for task in sorted((shared_data / "super_ni" / "tasks").glob("*.json")):
        instances = json.loads(task.read_text())["Instances"]
        outputs = [output for instance in instances for output in instance["output"]]
        for instance, prediction in zip(instances, reversed(outputs), strict=False):
            for references in (instance["output"], instance["output"] + [prediction]):
                assert_same(ours.score_multi(references, prediction),
                            theirs.score_multi(references, prediction)["rougeL"])
                checked += 1
    assert checked > 500


def test_pairwise_matrix_matches_rouge_score():
    rng = random.Random(3)
    ours, theirs = RougeL(), RougeScorer(["rougeL"])
    for _ in range(50):
        base = random_text(rng)
        texts = [base, base + " " + random_text(rng), random_text(rng), ""]
        matrix = ours.pairwise_f1(texts)
        for i, j in itertools.product(range(len(texts)), repeat=2):
            assert matrix[i][j] == theirs.score(texts[i], texts[j])["rougeL"].fmeasure


def test_texts_without_tokens_score_zero():
    scorer = RougeL()
    assert scorer.score("", "some words").fmeasure == 0
    assert scorer.score("!!! ...", "!!! ...").fmeasure == 0
    assert scorer.pairwise_f1(["a b", "a b"]) == [[1.0, 1.0], [1.0, 1.0]]


def test_score_multi_needs_a_reference():
    with pytest.raises(ValueError):
        RougeL().score_multi([], "prediction")
