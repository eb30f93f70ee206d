"""Importing the authors' released Tuna data: small files written in the documented layout.

The layouts are those of microsoft/LMOps `tuna/README.md` and `tuna/src/gpt-eval.py`
(a JSON array written with indent=4; the rank list is `ranks` in the script, `rank` in
the README); the probabilistic-ranking file's scores are checked against Eq. 3 by hand.
"""

import json
import re

import pytest
from json_files import write_json, write_jsonl
from tuna_cli import tuna, tuna_process

from tuna.datasets import instruction_id
from tuna.errors import TunaError
from tuna.prompts import alpaca_prompt, parse_alpaca_prompt
from tuna.records import Instruction, Judgement, Ranking, read_jsonl
from tuna.released import read_released_judge, read_released_prob


def prob_record(instruction="Name a color.", input="", output="Blue.", text=("A", "B", "C", ""),
                logprob=(-10.0, -3.0, -6.0, 0.0), length=(10, 2, 4, 0)):
    return {"orig": {"instruction": instruction, "input": input, "output": output}, "text": list(text),
            "avg_token_prob": [lp / n if n else 0.0 for lp, n in zip(logprob, length, strict=True)],
            "length": list(length), "logprob": list(logprob)}


def authors_prompt(instruction, input=""):
    """The instruction as the authors' generation script formats it (no newline after the header)."""
    return alpaca_prompt(instruction, input)


def judge_record(instruction="Name a color.", input="", generation=("g0", "g1", "g2", "g3"), rank=(4, 2, 0, 3, 1),
                 rank_key="rank"):
    instruct = authors_prompt(instruction, input)
    return {"prompt": instruct + "\n\n" + "\n".join(f"###Response {k}:\n{g}\n" for k, g in enumerate(generation)),
            "instruct": instruct, "generation": list(generation), "id": 7,
            "gpt_eval": f"Open-ended.\n###Response 4:\nRed.\n\nrank: {list(rank)}", "rank_str": str(list(rank)),
            rank_key: list(rank), "response_4": "Red."}


# --- probabilistic ranking: Eq. 3 from the released totals -------------------------------------

@pytest.mark.parametrize("beta, order, scores", [
    # A: -10 / 10^b, B: -3 / 2^b, C: -6 / 4^b; the empty 4th response is never ranked
    (0.0, ["B", "C", "A"], [-3.0, -6.0, -10.0]),
    (1.0, ["A", "B", "C"], [-1.0, -1.5, -1.5]),  # B and C tie: released order
    (2.0, ["A", "C", "B"], [-0.1, -0.375, -0.75]),
    # 10^1.3 = 19.952623, 4^1.3 = 6.0628663, 2^1.3 = 2.4622888
    (1.3, ["A", "C", "B"], [-0.5011872, -0.9896314, -1.2183788]),
])
def test_prob_ranks_by_eq3_with_the_given_beta(tmp_path, beta, order, scores):
    [ranking] = read_released_prob(write_json(tmp_path / "prob.json", [prob_record()], indent=4), beta)
    assert [c.text for c in ranking.candidates] == order
    assert [c.score for c in ranking.candidates] == pytest.approx(scores, rel=1e-6)
    assert [c.n_tokens for c in ranking.candidates] == [{"A": 10, "B": 2, "C": 4}[t] for t in order]
    assert ranking.source == "prob" and ranking.output == "Blue." and ranking.instruction == "Name a color."
    assert ranking.id == instruction_id("Name a color.", "")


def test_prob_whitespace_response_is_not_ranked_and_input_is_kept(tmp_path):
    record = prob_record(input="ocean", text=("A", "  \n", "C", "D"), logprob=(-1.0, -0.5, -2.0, -4.0),
                         length=(1, 2, 1, 1))
    [ranking] = read_released_prob(write_jsonl(tmp_path / "prob.jsonl", [record]), 1.0)
    assert [c.text for c in ranking.candidates] == ["A", "C", "D"]
    assert ranking.input == "ocean" and ranking.id == instruction_id("Name a color.", "ocean")


def test_json_array_and_json_lines_read_the_same(tmp_path):
    records = [prob_record(), prob_record(instruction="Add 2 and 3.", output="5.")]
    assert (read_released_prob(write_json(tmp_path / "a.json", records, indent=4), 1.3)
            == read_released_prob(write_jsonl(tmp_path / "b.jsonl", records), 1.3))
    assert read_released_prob(write_json(tmp_path / "empty.json", [], indent=4), 1.3) == []


def test_ids_are_those_of_prepare_data_on_the_same_alpaca_records(tmp_path, shared_data):
    """The real Alpaca head through `tuna prepare-data` and, as released records, through the importers."""
    alpaca = json.loads((shared_data / "alpaca" / "alpaca_data_head.json").read_text())[:6]
    alpaca.append(alpaca[1])  # an exact repeat gets the same '-2' id in both
    source = tmp_path / "alpaca.json"
    source.write_text(json.dumps(alpaca))
    prepared = tmp_path / "instructions.jsonl"
    tuna_process("prepare-data", "--source", source, "-o", prepared)
    expected = read_jsonl(prepared, Instruction)
    assert any(r.input for r in expected) and expected[-1].id.endswith("-2")

    prob = write_json(tmp_path / "prob.json", [prob_record(**row) for row in alpaca], indent=4)
    assert [(r.id, r.instruction, r.input, r.output) for r in read_released_prob(prob, 1.3)] == [
        (r.id, r.instruction, r.input, r.output) for r in expected]

    judge = write_json(tmp_path / "judge.json", [judge_record(row["instruction"], row["input"]) for row in alpaca],
                       indent=4)
    rankings, judgements = read_released_judge(judge, expected)
    assert [(r.id, r.instruction, r.input, r.output) for r in rankings] == [
        (r.id, r.instruction, r.input, r.output) for r in expected]
    assert [j.id for j in judgements] == [r.id for r in expected]


# --- contextual ranking: GPT-4's released ranks -------------------------------------------------

@pytest.mark.parametrize("generation, rank, expected, kept", [
    (("g0", "g1", "g2", "g3"), (4, 2, 0, 3, 1), ["g2", "g0", "g3", "g1"], [2, 0, 3, 1]),  # 4: GPT-4's own
    (("g0", "g1", "g2", "g3"), (1, 4, 3), ["g1", "g3"], [1, 3]),  # duplicates GPT-4 removed are absent
    (("", "g1", "g2", "g3"), (0, 1, 2, 3), ["g1", "g2", "g3"], [0, 1, 2, 3]),  # an empty sample is not ranked
])
def test_judge_rank_indexes_generation_from_zero(tmp_path, generation, rank, expected, kept):
    path = write_json(tmp_path / "gpt-4-ranking.json", [judge_record(generation=generation, rank=rank)], indent=4)
    [ranking], [judgement] = read_released_judge(path)
    assert [c.text for c in ranking.candidates] == expected
    assert all(c.score is None and c.n_tokens is None for c in ranking.candidates)
    assert ranking.source == "judge" and ranking.output == "" and ranking.id == instruction_id("Name a color.", "")
    assert judgement == Judgement(id=ranking.id, judge="gpt-4", raw=judge_record(rank=rank)["gpt_eval"], ok=True,
                                  rank=kept)


def test_judge_reads_the_scripts_ranks_key_and_inputs(tmp_path):
    record = judge_record("Translate to French.", "Good morning", rank=(3, 2, 1, 0), rank_key="ranks")
    [ranking], _ = read_released_judge(write_jsonl(tmp_path / "judge.jsonl", [record]))
    assert [c.text for c in ranking.candidates] == ["g3", "g2", "g1", "g0"]
    assert (ranking.instruction, ranking.input) == ("Translate to French.", "Good morning")


@pytest.mark.parametrize("instruction, input", [("Name a color.", ""), ("Sum:\n\n1 2", "a\n\n### Input:\nb"),
                                                ("Say hi.", "in French")])
def test_alpaca_prompt_parses_back_with_or_without_the_final_newline(instruction, input):
    assert parse_alpaca_prompt(alpaca_prompt(instruction, input)) == (instruction, input)
    assert parse_alpaca_prompt(alpaca_prompt(instruction, input, newline=True)) == (instruction, input)


@pytest.mark.parametrize("prompt", ["Name a color.", alpaca_prompt("Name a color.") + "Blue.",
                                    alpaca_prompt("x", "y").replace("\n\n### Input:\n", "\n\n")])
def test_non_alpaca_prompts_are_refused(prompt):
    assert parse_alpaca_prompt(prompt) is None


# --- malformed records: one line naming file:line and the field --------------------------------

def _without(record, key):
    return {k: v for k, v in record.items() if k != key}


@pytest.mark.parametrize("record, message", [
    (_without(prob_record(), "logprob"), "field 'logprob': Field required"),
    ({**prob_record(), "orig": {"input": ""}}, "field 'orig.instruction': Field required"),
    ({**prob_record(), "text": ["A", 2, "C", "D"]}, "field 'text.1': Input should be a valid string"),
    ({**prob_record(), "logprob": [-1.0, -2.0, -3.0]}, "field 'logprob': 3 values for the 4 responses in 'text'"),
    ({**prob_record(), "length": [1, 2, 3, 4, 5]}, "field 'length': 5 values for the 4 responses in 'text'"),
    ({**prob_record(), "logprob": [-1.0, 0.5, -3.0, 0.0]}, "field 'logprob.1': Input should be less than or equal to 0"),
    ({**prob_record(), "length": [1, 2.5, 3, 0]}, "field 'length.1': Input should be a valid integer"),
    ({**prob_record(), "length": [1, 2, 0, 0]}, "field 'length.2': 0 tokens for a non-empty response"),
    ({**prob_record(), "text": "A"}, "field 'text': Input should be a valid list"),
    ([prob_record()], "expected a JSON object, got list"),
])
def test_malformed_prob_record_names_file_line_and_field(tmp_path, record, message):
    path = write_jsonl(tmp_path / "prob.jsonl", [prob_record(), record])
    with pytest.raises(TunaError, match=re.escape(f"{path}:2: {message}")):
        read_released_prob(path, 1.3)


def test_non_finite_log_prob_is_refused(tmp_path):
    path = tmp_path / "prob.jsonl"
    path.write_text(json.dumps(prob_record()).replace("-10.0", "-Infinity") + "\n")
    with pytest.raises(TunaError, match=re.escape(f"{path}:1: field 'logprob.0': Input should be a finite number")):
        read_released_prob(path, 1.3)


@pytest.mark.parametrize("record, message", [
    (judge_record(rank=(0, 7, 1)), "field 'rank': the rank [0, 7, 1] names a response outside 0..3 "
                                   "(4 responses in 'generation'; 4 is GPT-4's own)"),
    (judge_record(rank=(2, 0, 2)), "field 'rank': the rank [2, 0, 2] repeats a response"),
    (judge_record(rank=(4,)), "field 'rank': the rank names no candidate response"),
    (_without(judge_record(), "rank"), "field 'rank': Field required"),
    (_without(judge_record(), "gpt_eval"), "field 'gpt_eval': Field required"),
    ({**judge_record(), "generation": ["g0", None]}, "field 'generation.1': Input should be a valid string"),
    ({**judge_record(), "instruct": "Name a color."},
     "field 'instruct': not an instruction in the Alpaca prompt format"),
])
def test_malformed_judge_record_names_file_line_and_field(tmp_path, record, message):
    path = write_json(tmp_path / "judge.json", [judge_record(), record], indent=4)
    line = path.read_text().splitlines().index("    {", 2) + 1  # where the 2nd record starts
    assert line > 10
    with pytest.raises(TunaError, match=re.escape(f"{path}:{line}: {message}")):
        read_released_judge(path)


@pytest.mark.parametrize("text, line, message", [
    ('R\n{"orig": \n', 2, "not valid JSON (Expecting value)"),
    ('[\n  R\n  R\n]', 3, "not valid JSON (expected ',' or ']' after a record)"),
    ('[\n  R,\n  {"b": 2,\n', 4, "not valid JSON (Expecting property name enclosed in double quotes)"),
    ('[R]\n[]', 2, "not valid JSON (data after the array)"),
    ('[R,\n]', 2, "not valid JSON (Expecting value)"),
])
def test_broken_json_names_the_line(tmp_path, text, line, message):
    path = tmp_path / "bad.json"
    path.write_text(text.replace("R", json.dumps(prob_record())))  # R: a valid one-line record
    with pytest.raises(TunaError, match=re.escape(f"{path}:{line}: {message}")):
        read_released_prob(path, 1.3)


# --- the command ---------------------------------------------------------------------------------

def test_import_released_prob_end_to_end(tmp_path):
    released = write_json(tmp_path / "davinci_003_w_prob.json", [prob_record(), prob_record(instruction="Add 2+3.")],
                          indent=4)
    out = tmp_path / "ranked.jsonl"
    run = tuna_process("import-released", "--kind", "prob", released, "--beta", "2", "-o", out)
    assert "2 rankings, 6 ranked responses" in run.stdout and "beta 2.0" in run.stdout
    rankings = read_jsonl(out, Ranking)
    assert [c.text for c in rankings[0].candidates] == ["A", "C", "B"]
    assert rankings == read_released_prob(released, 2.0)
    stamp = json.loads((tmp_path / "ranked.jsonl.provenance.json").read_text())
    assert stamp["params"] == {"kind": "prob", "beta": 2.0} and stamp["inputs"][0]["path"] == str(released)


def test_import_released_judge_end_to_end(tmp_path):
    released = write_json(tmp_path / "gpt-4-ranking.json", [judge_record(), judge_record("Add 2+3.", rank=(1, 0))],
                          indent=4)
    instructions = tmp_path / "instructions.jsonl"
    instructions.write_text(Instruction(id=instruction_id("Name a color.", ""), instruction="Name a color.",
                                        output="Blue.").model_dump_json() + "\n")
    out, judged = tmp_path / "ranked.jsonl", tmp_path / "judged.jsonl"
    run = tuna_process("import-released", "--kind", "judge", released, "--instructions", instructions,
                       "--judgements", judged, "-o", out)
    assert "2 rankings, 6 ranked responses" in run.stdout and "1 without an original response" in run.stdout
    rankings, judgements = read_jsonl(out, Ranking), read_jsonl(judged, Judgement)
    assert [r.output for r in rankings] == ["Blue.", ""]
    assert [c.text for c in rankings[1].candidates] == ["g1", "g0"]
    assert [j.raw for j in judgements] == [judge_record()["gpt_eval"], judge_record(rank=(1, 0))["gpt_eval"]]
    assert (tmp_path / "judged.jsonl.provenance.json").exists()


@pytest.mark.parametrize("args, message", [
    (["--kind", "judge", "--beta", "1.0"], "--beta does not apply to --kind judge"),
    (["--kind", "judge"], "--kind judge needs --judgements"),
    (["--kind", "prob", "--judgements", "j.jsonl"], "--judgements does not apply to --kind prob"),
])
def test_options_of_the_other_kind_are_refused(tmp_path, args, message):
    released = write_json(tmp_path / "released.json", [judge_record()], indent=4)
    result = tuna("import-released", str(released), *args, "-o", str(tmp_path / "o.jsonl"), code=2)
    assert message in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_bad_record_is_one_line_error_and_no_output(tmp_path):
    released = write_jsonl(tmp_path / "prob.jsonl", [prob_record(), _without(prob_record(), "text")])
    out = tmp_path / "ranked.jsonl"
    run = tuna_process("import-released", "--kind", "prob", released, "-o", out, code=1)
    assert not out.exists()
    assert run.stderr.strip() == f"Error: {released}:2: field 'text': Field required"
