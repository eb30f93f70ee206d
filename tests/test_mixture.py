"""The data algebra's files: slices in stable order, mixtures, Alpaca-Mul, and `tuna mix-data`."""

import json

import pytest
from tuna_cli import tuna_process

from tuna.datasets import read_records
from tuna.errors import TunaError
from tuna.mixture import alpaca_mul, build, parse_slice, take
from tuna.records import Instruction, RankedCandidate, Ranking, write_jsonl


def ranking(k: int, n: int = 2) -> Ranking:
    return Ranking(id=f"r{k}", instruction=f"Task {k}.", output=f"orig {k}", source="prob",
                   candidates=[RankedCandidate(text=f"r{k} c{j}", n_tokens=2, score=-j) for j in range(n)])


@pytest.mark.parametrize("text, bounds", [("all", None), ("first:3", (0, 3)), ("last:2", (-2, None)),
                                          ("range:1:4", (1, 4))])
def test_slices(text, bounds):
    assert parse_slice(text) == bounds


@pytest.mark.parametrize("text", ["first", "last:x", "range:1", "middle:2"])
def test_bad_slice_is_named(text):
    with pytest.raises(TunaError, match=f"slice '{text}'"):
        parse_slice(text)


def test_first_and_last_never_overlap_and_past_the_end_fails():
    records = list(range(10))
    assert take(records, "first:3", "f") == [0, 1, 2] and take(records, "last:7", "f") == list(range(3, 10))
    assert take(records, "range:2:5", "f") == [2, 3, 4]
    with pytest.raises(TunaError, match="^f: slice last:11 is past the end \\(10 records\\)"):
        take(records, "last:11", "f")


def test_alpaca_mul_makes_one_pair_per_usable_response():
    r = ranking(0, 3)
    r.candidates.append(RankedCandidate(text="", n_tokens=0, finish_reason="empty"))
    pairs = alpaca_mul([r])
    assert [(p.id, p.output) for p in pairs] == [("r0", "orig 0"), ("r0#1", "r0 c0"), ("r0#2", "r0 c1"),
                                                 ("r0#3", "r0 c2")]
    assert all(isinstance(p, Instruction) and p.instruction == "Task 0." for p in pairs)


def test_mixture_counts_parts_and_shuffles_with_the_seed(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(a, [ranking(k) for k in range(5)])
    write_jsonl(b, [ranking(k + 100) for k in range(4)])
    records, counts = build([(a, "first:2"), (b, "last:3")], seed=1)
    assert counts == [2, 3] and sorted(r.id for r in records) == ["r0", "r1", "r101", "r102", "r103"]
    assert [r.id for r in build([(a, "first:2"), (b, "last:3")], seed=1)[0]] == [r.id for r in records]
    assert [r.id for r in build([(a, "first:2"), (b, "last:3")], seed=2)[0]] != [r.id for r in records]
    instructions = tmp_path / "i.jsonl"
    write_jsonl(instructions, [Instruction(id="x", instruction="y", output="z")])
    with pytest.raises(TunaError, match="not both"):
        build([(a, "all"), (instructions, "all")], seed=0)


def test_mix_data_command(tmp_path):
    ranked = tmp_path / "ranked.jsonl"
    write_jsonl(ranked, [ranking(k) for k in range(4)])
    out = tmp_path / "mul.jsonl"
    done = tuna_process("mix-data", "--part", ranked, "last:3", "--alpaca-mul", "--seed", "0", "-o", out)
    assert f"{ranked} last:3: 9" in done.stdout
    records = read_records(out)
    assert len(records) == 9 and all(isinstance(r, Instruction) for r in records)
    stamp = json.loads(out.with_name("mul.jsonl.provenance.json").read_text())
    assert stamp["params"]["counts"] == [9] and stamp["params"]["alpaca_mul"] is True
    bad = tuna_process("mix-data", "--part", ranked, "last:5", "-o", out, code=1)
    assert bad.stderr.strip() == f"Error: {ranked}: slice last:5 is past the end (4 records)"
