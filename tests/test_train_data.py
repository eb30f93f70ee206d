"""Ranked jsonl -> token ids: prompts, EOS, and the documented bad-data rules."""

import json

import pytest
from json_files import write_jsonl
from tiny_llama import tiny_tokenizer

from tuna.errors import TunaError
from tuna.prompts import build_prompt
from tuna.train.data import candidate_counts, describe, load_examples
from tuna.train.loss import TunaLoss


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def ranking(id, n, output="one two three", instruction="Count to three."):
    return {"id": id, "instruction": instruction, "input": "", "output": output, "source": "prob",
            "candidates": [{"text": f"answer {k}", "n_tokens": 2} for k in range(n)]}


def test_prompt_and_responses_end_with_eos(tmp_path, tokenizer):
    path = write_jsonl(tmp_path / "r.jsonl", [ranking("a", 3)])
    [example], report = load_examples(path, tokenizer, "chat", TunaLoss(), max_length=128)
    prompt = build_prompt("chat", "Count to three.", chat_template=tokenizer.chat_template)
    assert prompt.endswith("<|im_start|>assistant\n")
    assert example.prompt == tokenizer(prompt)["input_ids"]
    eos = tokenizer.eos_token_id
    assert [r[-1] for r in example.responses] == [eos] * 4
    assert example.candidates[2] == tokenizer("answer 2")["input_ids"] + [eos]
    assert example.original == tokenizer("one two three")["input_ids"] + [eos]
    assert describe(report) == "1 of 1 examples kept"


def test_bad_data_rules_are_counted_and_every_ranking_is_kept(tmp_path, tokenizer):
    rows = [ranking("ok1", 4), ranking("ok2", 4), ranking("more", 5), ranking("fewer", 3), ranking("two", 2),
            ranking("one", 1), ranking("no_original", 4, output=" "),
            ranking("long_prompt", 4, instruction="word " * 200)]
    rows[1]["candidates"][0]["text"] = "very long " * 100
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    examples, report = load_examples(path, tokenizer, "chat", TunaLoss(), max_length=96)
    assert [(e.id, len(e.candidates)) for e in examples] == [("ok1", 4), ("ok2", 4), ("more", 5), ("fewer", 3),
                                                             ("two", 2)]
    assert examples[2].candidates[-1] == tokenizer("answer 4")["input_ids"] + [tokenizer.eos_token_id]
    assert examples[3].ranks == [0, 1, 2]
    cut = examples[1].candidates[0]
    assert len(examples[1].prompt) + len(cut) == 96 and cut[-1] != tokenizer.eos_token_id
    assert describe(report) == (
        "5 of 8 examples kept (fewer than 2 candidates: 1, no original response: 1, "
        "responses truncated to max_length: 1, prompt too long: 1)"
    )
    assert candidate_counts(examples) == {"5": 1, "4": 2, "3": 1, "2": 1}


def test_rank_groups_ties_and_left_out_candidates(tmp_path, tokenizer):
    rows = [ranking("tied", 4), ranking("all_tied", 2), ranking("gap", 3)]
    for row, ranks in zip(rows, ([0, 1, 1, 2], [0, 0], [0, 1, 2]), strict=True):
        for candidate, rank in zip(row["candidates"], ranks, strict=True):
            candidate["rank"] = rank
    rows[2]["candidates"][1].update(text="", finish_reason="empty")  # its rank group disappears
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    examples, report = load_examples(path, tokenizer, "chat", TunaLoss(), max_length=128)
    assert [(e.id, e.ranks) for e in examples] == [("tied", [0, 1, 1, 2]), ("gap", [0, 1])]
    assert report["candidates all tied"] == 1 and report["failed or empty responses left out"] == 1
    plain, _ = load_examples(write_jsonl(tmp_path / "p.jsonl", [ranking("a", 3)]), tokenizer, "chat", TunaLoss(),
                             max_length=128)
    assert plain[0].ranks == [0, 1, 2]  # no rank given: the positions


def test_max_examples_keeps_the_first_usable_examples_in_file_order(tmp_path, tokenizer):
    rows = [ranking("one", 1), ranking("a", 4), ranking("long_prompt", 4, instruction="word " * 200),
            ranking("b", 4), ranking("c", 4), ranking("d", 4)]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    examples, report = load_examples(path, tokenizer, "chat", TunaLoss(), max_length=96, max_examples=2)
    assert [e.id for e in examples] == ["a", "b"]  # the unusable ones do not count toward K
    assert describe(report) == ("2 of 6 examples kept (fewer than 2 candidates: 1, prompt too long: 1, "
                                "beyond max_examples: 2)")
    everything, report = load_examples(path, tokenizer, "chat", TunaLoss(), max_length=96, max_examples=10)
    assert [e.id for e in everything] == ["a", "b", "c", "d"] and "beyond max_examples" not in report


def test_mle_on_plain_instructions_and_rank_needs_rankings(tmp_path, tokenizer):
    path = write_jsonl(tmp_path / "i.jsonl", [{"id": "a", "instruction": "Say hi.", "output": "hi"},
                                         {"id": "b", "instruction": "Say nothing.", "output": ""}])
    examples, report = load_examples(path, tokenizer, "alpaca", TunaLoss("mle", mle_target="all"), max_length=128)
    assert [(e.id, e.candidates, e.original) for e in examples] == [("a", [], tokenizer("hi")["input_ids"] + [2])]
    assert report["no original response"] == 1
    with pytest.raises(TunaError, match="objective 'rank' needs ranked records"):
        load_examples(path, tokenizer, "alpaca", TunaLoss("rank"), max_length=128)


def test_mle_weight_zero_scores_no_original(tmp_path, tokenizer):
    path = write_jsonl(tmp_path / "r.jsonl", [ranking("a", 2, output="")])
    [example], _ = load_examples(path, tokenizer, "chat", TunaLoss(mle_weight=0.0), max_length=128)
    assert example.original is None and len(example.responses) == 2


def test_malformed_line_names_file_and_line(tmp_path, tokenizer):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(ranking("a", 2)) + "\n" + json.dumps({**ranking("b", 2), "candidates": "x"}) + "\n")
    with pytest.raises(TunaError, match=r"r.jsonl:2: field 'candidates'"):
        load_examples(path, tokenizer, "chat", TunaLoss(), max_length=128)


def test_failed_or_empty_candidates_are_never_trained_on(tmp_path, tokenizer):
    rows = [ranking("a", 3), ranking("b", 3)]
    rows[0]["candidates"][1].update(text="", finish_reason="error", error="HTTP 500")
    rows[1]["candidates"][2].update(text=" ", finish_reason="empty")
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    examples, report = load_examples(path, tokenizer, "chat", TunaLoss(), max_length=128)
    assert report["failed or empty responses left out"] == 2 and report["kept"] == 2
    eos = tokenizer.eos_token_id
    assert examples[0].candidates == [tokenizer(t)["input_ids"] + [eos] for t in ("answer 0", "answer 2")]
    assert "failed or empty responses left out: 2" in describe(report)
