import json

import pytest

from tuna.errors import TunaError
from tuna.records import Candidate, Generation, Instruction, atomic_output, read_jsonl, write_jsonl


def test_round_trip(tmp_path):
    records = [
        Generation(id="a", model="m", candidates=[Candidate(text="hi", n_tokens=1, logprobs=[-0.5])]),
        Generation(id="b", model="m", candidates=[Candidate(text="", n_tokens=0, finish_reason="empty")]),
    ]
    path = tmp_path / "gen.jsonl"
    assert write_jsonl(path, records) == 2
    assert read_jsonl(path, Generation) == records


def test_malformed_field_names_file_line_and_field(tmp_path):
    path = tmp_path / "teacher.jsonl"
    good = {"id": "a", "model": "m", "candidates": [{"text": "x", "n_tokens": 1}]}
    bad = {"id": "b", "model": "m", "candidates": [{"text": "x", "n_tokens": "many"}]}
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n")
    with pytest.raises(TunaError) as err:
        read_jsonl(path, Generation)
    message = err.value.message
    assert message.startswith(f"{path}:3: field 'candidates.0.n_tokens'")
    assert "\n" not in message


def test_invalid_json_and_unknown_key(tmp_path):
    path = tmp_path / "i.jsonl"
    path.write_text('{"id": "a", "instruction": "x"}\n{"id": \n')
    with pytest.raises(TunaError, match=r"i\.jsonl:2: not valid JSON"):
        read_jsonl(path, Instruction)
    path.write_text('{"id": "a", "instruction": "x", "instructoin": "typo"}\n')
    with pytest.raises(TunaError, match=r"i\.jsonl:1: field 'instructoin': Extra inputs"):
        read_jsonl(path, Instruction)


def test_missing_file_is_one_line_error(tmp_path):
    with pytest.raises(TunaError, match="cannot read"):
        read_jsonl(tmp_path / "nope.jsonl", Instruction)


def test_atomic_output_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_output(path) as handle:
            handle.write("partial")
            raise RuntimeError("killed")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
