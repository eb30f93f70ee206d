"""Held-out agreement and NLL: known answers, equal to plain per-response forwards, clear errors."""

import json
import math

import pytest
import torch
from scipy import stats
from test_train_forward import unshared_logprobs
from test_train_trainer import ranked_file
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna

from tuna.train.data import load_examples
from tuna.train.loss import TunaLoss
from tuna.train.ranks import Ranks
from tuna.train.scoring import agreement_stats


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "model", seed=3)


def stock_model_and_tokenizer(checkpoint):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32, attn_implementation="sdpa")
    return model.eval(), AutoTokenizer.from_pretrained(checkpoint)


def reference_means(checkpoint, data, loss):
    """v of every response by the obvious per-response forward (prompt + response, full log-softmax)."""
    model, tokenizer = stock_model_and_tokenizer(checkpoint)
    examples, _ = load_examples(data, tokenizer, "chat", loss, 384)
    with torch.no_grad():
        return examples, [unshared_logprobs(model, e) / torch.tensor([len(r) for r in e.responses]) for e in examples]


def write_ranked(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def flat(rows):
    """Per-example score lists -> (C,) scores and the ranks of candidates in that order (positions)."""
    return torch.tensor([v for row in rows for v in row]), Ranks.of([list(range(len(row))) for row in rows])


def test_agreement_statistics_of_hand_made_scores():
    result = agreement_stats(*flat([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [1.0, 3.0, 2.0]]))
    assert result["examples"] == 3 and result["candidates per example"] == {"3": 3} and result["pairs"] == 9
    assert result["pair_accuracy"] == pytest.approx((1 + 0 + 1 / 3) / 3)
    assert result["kendall_tau"] == pytest.approx((1 - 1 - 1 / 3) / 3)
    assert result["spearman"] == pytest.approx((1 - 1 - 0.5) / 3)
    # margins: (1, 2, 1), (-1, -2, -1), (-2, -1, 1)
    assert result["mean_margin"] == pytest.approx((4 - 4 - 2) / 9)
    assert result["pair_accuracy_se"] > 0 and result["undefined_correlations"] == 0
    tied = agreement_stats(*flat([[1.0, 1.0], [2.0, 1.0]]))
    assert tied["undefined_correlations"] == 1 and tied["kendall_tau"] == 1.0 and tied["pair_accuracy"] == 0.5


def test_agreement_statistics_of_ragged_and_tied_rankings():
    """Each example weighs the same whatever its count; tied candidates form no pair."""
    scores = torch.tensor([3.0, 2.0, 1.0, 0.0, 1.0, 2.0, 5.0, 1.0, 2.0])
    ranks = Ranks.of([[0, 1, 2, 3], [0, 1], [0, 1, 1]])
    result = agreement_stats(scores, ranks)
    assert result["candidates per example"] == {"4": 1, "3": 1, "2": 1} and result["pairs"] == 6 + 1 + 2
    assert result["pair_accuracy"] == pytest.approx((1 + 0 + 1) / 3)
    # margins: example 0 (1, 2, 3, 1, 2, 1) mean 10/6; example 1: -1; example 2: (4, 3) mean 3.5
    assert result["mean_margin"] == pytest.approx((10 / 6 - 1 + 3.5) / 3)
    tau_b = stats.kendalltau([0, -1, -1], [5.0, 1.0, 2.0]).statistic  # the tie enters tau-b
    assert result["kendall_tau"] == pytest.approx((1 - 1 + tau_b) / 3)


def test_agreement_is_one_in_the_models_own_order_and_zero_reversed(tmp_path, checkpoint):
    """Rank the candidates by the plain forward's v: the packed evaluation must agree fully; reversed, never
    (with 4, 3 and 2 candidates per example: every example counts)."""
    data = ranked_file(tmp_path / "any.jsonl", 6, counts=(4, 3, 2))
    examples, means = reference_means(checkpoint, data, TunaLoss(mle_weight=0.0))
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    for row, v in zip(rows, means, strict=True):
        assert len(set(v.tolist())) == len(v)  # no ties: the order is certain
        row["candidates"] = [row["candidates"][k] for k in v.argsort(descending=True).tolist()]
    ordered = write_ranked(tmp_path / "ordered.jsonl", rows)
    reversed_ = write_ranked(tmp_path / "reversed.jsonl", [{**r, "candidates": r["candidates"][::-1]} for r in rows])

    tuna("eval-agreement", "--checkpoint", checkpoint, "--ranked", ordered, "--model-name", "tiny",
         "--data-name", "prob_rank", "--batch-size", 4, "-o", tmp_path / "ordered.json")
    result = json.loads((tmp_path / "ordered.json").read_text())
    assert (result["pair_accuracy"], result["kendall_tau"], result["spearman"]) == (1.0, 1.0, 1.0)
    assert result["mean_margin"] > 0 and result["examples"] == 6 and result["ranking"] == "prob_rank"
    assert result["candidates per example"] == {"4": 2, "3": 2, "2": 2}
    expected = {row["id"]: sorted(v.tolist(), reverse=True) for row, v in zip(rows, means, strict=True)}
    for example in result["per_example"]:  # the packed no-grad v equal the plain forward's
        assert example["v"] == pytest.approx(expected[example["id"]], abs=1e-5)

    tuna("eval-agreement", "--checkpoint", checkpoint, "--ranked", reversed_, "--model-name", "tiny",
         "-o", tmp_path / "reversed.json")
    result = json.loads((tmp_path / "reversed.json").read_text())
    assert (result["pair_accuracy"], result["kendall_tau"], result["spearman"]) == (0.0, -1.0, -1.0)
    assert (tmp_path / "reversed.json.provenance.json").exists()


def test_agreement_and_nll_read_only_the_held_out_examples(tmp_path, checkpoint):
    data = ranked_file(tmp_path / "ranked.jsonl", 8)
    held_out = tmp_path / "held_out.jsonl"
    held_out.write_text("".join(json.dumps({"id": f"x{i}", "instruction": "?"}) + "\n" for i in (1, 4, 6)))
    tuna("eval-agreement", "--checkpoint", checkpoint, "--ranked", data, "--held-out", held_out, "--model-name", "t",
         "-o", tmp_path / "a.json")
    result = json.loads((tmp_path / "a.json").read_text())
    assert [e["id"] for e in result["per_example"]] == ["x1", "x4", "x6"] and result["held_out"] is True
    assert "3 of 8 examples kept (not held out: 5)" in result["data"]

    tuna("eval-nll", "--checkpoint", checkpoint, "--data", data, "--held-out", held_out, "--model-name", "t",
         "-o", tmp_path / "nll.json")
    nll = json.loads((tmp_path / "nll.json").read_text())
    examples, means = reference_means(checkpoint, data, TunaLoss(objective="mle"))
    chosen = [(e, v) for e, v in zip(examples, means, strict=True) if e.id in ("x1", "x4", "x6")]
    tokens = sum(len(e.original) for e, _ in chosen)
    expected = -sum(v.item() * len(e.original) for e, v in chosen) / tokens
    assert nll["examples"] == 3 and nll["tokens"] == tokens
    assert nll["nll"] == pytest.approx(expected, rel=1e-5) and nll["perplexity"] == pytest.approx(math.exp(expected))


def test_nll_of_an_alpaca_format_file(tmp_path, checkpoint):
    rows = [{"instruction": "Name three colors.", "input": "", "output": "red, green and blue"},
            {"instruction": "Count.", "input": "to five", "output": "one two three four five"}]
    data = tmp_path / "lima.json"
    data.write_text(json.dumps(rows))
    tuna("eval-nll", "--checkpoint", checkpoint, "--data", data, "--model-name", "t", "-o", tmp_path / "nll.json")
    nll = json.loads((tmp_path / "nll.json").read_text())
    assert nll["examples"] == 2 and nll["held_out"] is False and 0 < nll["nll"] < 20


def test_nll_of_a_lima_conversation_file_is_that_of_its_first_turn_pairs(tmp_path, checkpoint):
    """LIMA's train.jsonl ({"conversations": [q, a, ...], "source": ...}) is scored on its first
    turn pair: the same NLL as the Alpaca-format file of those pairs; later turns are left out."""
    lima = tmp_path / "train.jsonl"
    lima.write_text(json.dumps({"conversations": ["Name three colors.", "red, green and blue"], "source": "a"}) + "\n"
                    + json.dumps({"conversations": ["Count to five.", "one two three four five", "Again?",
                                                    "Once is enough."], "source": "multi_turn"}) + "\n")
    alpaca = tmp_path / "pairs.json"
    alpaca.write_text(json.dumps([{"instruction": "Name three colors.", "output": "red, green and blue"},
                                  {"instruction": "Count to five.", "output": "one two three four five"}]))
    tuna("eval-nll", "--checkpoint", checkpoint, "--data", lima, "--data-name", "lima", "--model-name", "t",
         "-o", tmp_path / "lima.json")
    tuna("eval-nll", "--checkpoint", checkpoint, "--data", alpaca, "--model-name", "t", "-o", tmp_path / "pairs.json")
    lima_nll, pairs_nll = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("lima", "pairs"))
    assert lima_nll["examples"] == 2 and lima_nll["tokens"] == pairs_nll["tokens"]
    assert lima_nll["nll"] == pytest.approx(pairs_nll["nll"], rel=1e-6) and lima_nll["nll_data"] == "lima"


def test_a_missing_nll_data_file_names_its_config_key(tmp_path, checkpoint):
    result = tuna("eval-nll", "--checkpoint", str(checkpoint), "--data", str(tmp_path / "lima.jsonl"),
                  "--data-name", "lima", "--model-name", "t", "-o", str(tmp_path / "o.json"), code=1)
    assert f"{tmp_path / 'lima.jsonl'}: no such instruction-response file (evaluation.held_out.nll_data.lima" \
        in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"conversations": ["Only a question?"], "source": "x"}) + "\n")
    result = tuna("eval-nll", "--checkpoint", str(checkpoint), "--data", str(bad),
                  "--model-name", "t", "-o", str(tmp_path / "o.json"), code=1)
    assert f"{bad}:1: field 'conversations'" in result.output


def test_clear_errors(tmp_path, checkpoint):
    data = ranked_file(tmp_path / "ranked.jsonl", 2)
    empty = tmp_path / "none.jsonl"
    empty.write_text(json.dumps({"id": "nope", "instruction": "?"}) + "\n")
    result = tuna("eval-agreement", "--checkpoint", str(checkpoint), "--ranked", str(data),
                  "--held-out", str(empty), "--model-name", "t", "-o", str(tmp_path / "o.json"), code=1)
    assert f"{data}: no usable examples to score" in result.output
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"id": "a", "instruction": "Hi.", "output": "Hello."}) + "\n")
    result = tuna("eval-agreement", "--checkpoint", str(checkpoint), "--ranked", str(plain),
                  "--model-name", "t", "-o", str(tmp_path / "o.json"), code=1)
    assert "objective 'rank' needs ranked records" in result.output
    assert not (tmp_path / "o.json").exists()


@pytest.mark.slow  # loads SmolLM2-135M
def test_a_real_model_prefers_fluent_answers_to_scrambled_ones(tmp_path, smollm2_checkpoint):
    """SmolLM2 ranks a fluent answer above the same words scrambled. (Not above random letters:
    a repetitive letter string gets a higher per-token likelihood than scrambled words.)"""
    answers = {"What is the capital of France?": "The capital of France is Paris.",
               "Name three primary colors.": "The three primary colors are red, yellow and blue.",
               "What do bees make?": "Bees make honey from the nectar of flowers."}
    rows = []
    for i, (question, answer) in enumerate(answers.items()):
        scrambled = " ".join(sorted(answer.split(), key=lambda w: (len(w), w)))
        rows.append({"id": f"q{i}", "instruction": question, "source": "prob",
                     "candidates": [{"text": t, "n_tokens": 1} for t in (answer, scrambled)]})
    ranked = write_ranked(tmp_path / "ranked.jsonl", rows)
    tuna("eval-agreement", "--checkpoint", smollm2_checkpoint, "--ranked", ranked, "--model-name", "smollm2",
         "-o", tmp_path / "a.json")
    result = json.loads((tmp_path / "a.json").read_text())
    assert result["pair_accuracy"] == 1.0 and result["kendall_tau"] == 1.0
