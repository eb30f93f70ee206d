"""Preference data in: small files in UltraFeedback's and HH-RLHF's layouts (and TRL's conversational one),
written here, as ranked records; ties as rank groups; pairs merged per prompt only when that invents nothing;
bad rows named by file:line and field."""

import json

import pytest
from json_files import write_json, write_jsonl
from tuna_cli import tuna

from tuna.config.models import PreferenceFields
from tuna.datasets import instruction_id
from tuna.errors import TunaError
from tuna.preferences.read import read_preferences, weak_order
from tuna.records import Ranking, read_jsonl

UF_FIELDS = PreferenceFields(prompt="instruction", completions="completions.*.response",
                             scores="completions.*.overall_score")


def uf_completion(response, overall, rating="4"):
    """One completion as UltraFeedback (openbmb/UltraFeedback) has it: a model's response, four aspect
    annotations (ratings as strings), a critique and two aggregate scores."""
    return {"model": "some-model", "principle": "helpfulness", "custom_system_prompt": "Be helpful.",
            "response": response,
            "annotations": {aspect: {"Rating": rating, "Rationale": "..."}
                            for aspect in ("helpfulness", "honesty", "instruction_following", "truthfulness")},
            "critique": "Fine.", "fine-grained_score": float(rating), "overall_score": overall}


def uf_row(instruction, completions):
    return {"source": "evol_instruct", "instruction": instruction, "models": ["a", "b", "c", "d"],
            "completions": completions, "correct_answers": ["None"], "incorrect_answers": ["None"]}


UF_ROWS = [
    uf_row("Name a primary color.", [uf_completion("Red.", 7.5), uf_completion("Blue is one.", 9.0, "5"),
                                     uf_completion("", 2.0, "1"), uf_completion("Red, for one.", 7.5)]),
    uf_row("Count to three.", [uf_completion("one two three", 10), uf_completion("1 2", 4, "2"),
                               uf_completion("three", 1, "1"), uf_completion("one, two, three", 8, "5")]),
    uf_row("Say nothing.", [uf_completion("...", 5), uf_completion("", 5)]),  # one response left
]


def texts_and_ranks(ranking):
    return [(c.text, c.rank) for c in ranking.candidates]


@pytest.mark.parametrize("write, name", [(write_jsonl, "uf.jsonl"), (write_json, "uf.json")])
def test_ultrafeedback_listwise_scores_with_ties(tmp_path, write, name):
    rankings, report = read_preferences(str(write(tmp_path / name, UF_ROWS)), "listwise", UF_FIELDS)
    assert len(rankings) == 2 and report["rows"] == 3
    first, second = rankings
    assert texts_and_ranks(first) == [("Blue is one.", 0), ("Red.", 1), ("Red, for one.", 1)]  # 7.5 = 7.5: a tie
    assert [c.score for c in first.candidates] == [9.0, 7.5, 7.5] and first.ranks() == [0, 1, 1]
    assert texts_and_ranks(second) == [("one two three", 0), ("one, two, three", 1), ("1 2", 2), ("three", 3)]
    assert first.id == instruction_id("Name a primary color.", "") and first.source == "preferences"
    assert first.output == "" and first.input == ""
    assert report["empty responses left out"] == 2 and report["rows with fewer than 2 responses"] == 1
    assert report["rankings with ties"] == 1


def test_nested_string_ratings_and_ranks(tmp_path):
    """UltraFeedback's per-aspect ratings are strings ("4"); ranks sort lower-first; no scores: listed order."""
    path = write_jsonl(tmp_path / "uf.jsonl", UF_ROWS[:1])
    fields = UF_FIELDS.model_copy(update={"scores": "completions.*.annotations.helpfulness.Rating"})
    (ranking,), _ = read_preferences(str(path), "listwise", fields)
    assert texts_and_ranks(ranking) == [("Blue is one.", 0), ("Red.", 1), ("Red, for one.", 1)]
    assert [c.score for c in ranking.candidates] == [5.0, 4.0, 4.0]

    path = write_jsonl(tmp_path / "ranked.jsonl",
                       [{"prompt": "Pick.", "completions": ["b", "a", "c"], "rank": [2, 1, 2]}])
    (ranking,), _ = read_preferences(str(path), "listwise", PreferenceFields(ranks="rank"))
    assert texts_and_ranks(ranking) == [("a", 0), ("b", 1), ("c", 1)] and ranking.candidates[0].score is None

    (ranking,), _ = read_preferences(str(path), "listwise", PreferenceFields(scores=None))
    assert texts_and_ranks(ranking) == [("b", 0), ("a", 1), ("c", 2)]


def test_input_and_output_fields_feed_the_alpaca_input_and_the_mle_target(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"q": {"task": "Summarize.", "context": "A long text."}, "ref": "Short.",
                                              "completions": ["a", "b"], "scores": [1, 2]}])
    fields = PreferenceFields(prompt="q.task", input="q.context", output="ref")
    (ranking,), _ = read_preferences(str(path), "listwise", fields)
    assert (ranking.instruction, ranking.input, ranking.output) == ("Summarize.", "A long text.", "Short.")
    assert ranking.id == instruction_id("Summarize.", "A long text.")
    assert texts_and_ranks(ranking) == [("b", 0), ("a", 1)]


def test_conversational_rows_as_trl_writes_them(tmp_path):
    """TRL's conversational preference layout (trl-lib/ultrafeedback_binarized), and HuggingFaceH4's, whose
    chosen/rejected repeat the user turn (the response is the last assistant turn)."""
    user = [{"role": "user", "content": "Name a color."}]
    rows = [{"prompt": user, "chosen": [{"role": "assistant", "content": "Blue."}],
             "rejected": [{"role": "assistant", "content": "Bleu?"}]},
            {"prompt": "Name a color.", "chosen": user + [{"role": "assistant", "content": "Red."}],
             "rejected": user + [{"role": "assistant", "content": "Bleu?"}], "score_chosen": 8.0, "score_rejected": 2.0}]
    (ranking,), report = read_preferences(str(write_jsonl(tmp_path / "c.jsonl", rows)), "pairwise", PreferenceFields())
    assert ranking.instruction == "Name a color."
    assert texts_and_ranks(ranking) == [("Blue.", 0), ("Red.", 0), ("Bleu?", 1)]  # merged: {Blue, Red} > Bleu?
    assert report["prompts whose pairs form one ranking"] == 1


HH = "\n\nHuman: {}\n\nAssistant:"


def hh_pair(prompt, chosen, rejected):
    return {"prompt": HH.format(prompt), "chosen": " " + chosen, "rejected": " " + rejected}


@pytest.mark.parametrize("pairs, order", [
    ([("a", "b")], {"a": 0, "b": 1}),
    ([("a", "b"), ("a", "c")], {"a": 0, "b": 1, "c": 1}),  # b, c compared by no pair: one group
    ([("b", "c"), ("a", "b")], {"a": 0, "b": 1, "c": 2}),  # a > c by transitivity
    ([("a", "c"), ("b", "c"), ("a", "d"), ("b", "d")], {"a": 0, "b": 0, "c": 1, "d": 1}),
    ([("a", "b"), ("c", "d")], None),  # one ranking would invent a > d and c > b
    ([("a", "b"), ("b", "c"), ("c", "a")], None),  # a cycle
    ([("a", "b"), ("a", "c"), ("b", "d")], None),  # c and d unrelated, yet c would sit above d
])
def test_weak_order_of_pairs(pairs, order):
    assert weak_order(pairs) == order


def test_hh_pairs_merge_per_prompt_or_stay_apart(tmp_path):
    rows = [hh_pair("Hi?", "Hello!", "Go away."), hh_pair("Hi?", "Hello!", "What."),
            hh_pair("Help me.", "Sure.", "No."), hh_pair("Help me.", "Okay.", "Never."),
            hh_pair("Hi?", "Hello!", "Go away."),  # the same pair again
            hh_pair("Empty?", "", "Something."), hh_pair("Same?", "Yes.", "Yes.")]
    path = write_jsonl(tmp_path / "hh.jsonl", rows)
    rankings, report = read_preferences(str(path), "pairwise", PreferenceFields())
    hi, help_1, help_2 = rankings
    assert hi.instruction == HH.format("Hi?") and hi.id == instruction_id(HH.format("Hi?"), "")
    assert texts_and_ranks(hi) == [(" Hello!", 0), (" Go away.", 1), (" What.", 1)]
    assert texts_and_ranks(help_1) == [(" Sure.", 0), (" No.", 1)]
    assert texts_and_ranks(help_2) == [(" Okay.", 0), (" Never.", 1)]
    assert help_1.id == instruction_id(HH.format("Help me."), "") and help_2.id == help_1.id + "#1"
    assert report["prompts whose pairs form one ranking"] == 1
    assert report["prompts whose pairs stay apart (no weak order)"] == 1
    assert report["pairs with an empty response left out"] == 1 and report["pairs of one response twice left out"] == 1
    assert report["rows"] == 7 and report["rankings"] == 3


@pytest.mark.parametrize("row, fields, message", [
    ({"instruction": "x", "completions": [{"response": "a", "overall_score": "N/A"}]}, UF_FIELDS,
     "field 'completions.0.overall_score': not a number ('N/A')"),
    ({"instruction": "x", "completions": [{"response": "a"}]}, UF_FIELDS,
     "field 'completions.0.overall_score': missing"),
    ({"prompt": "x", "completions": ["a", "b"], "scores": [1]}, PreferenceFields(),
     "field 'scores': 1 values for the 2 responses in 'completions'"),
    ({"prompt": "x", "completions": "a", "scores": [1]}, PreferenceFields(), "field 'completions': expected a list"),
    ({"prompt": "x", "completions": [3, "b"], "scores": [1, 2]}, PreferenceFields(),
     "field 'completions.0': expected text, got a number"),
    ({"prompt": "", "completions": ["a", "b"], "scores": [1, 2]}, PreferenceFields(), "field 'prompt': empty prompt"),
    ({"prompt": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                 {"role": "user", "content": "c"}], "completions": ["a"], "scores": [1]}, PreferenceFields(),
     "field 'prompt': expected one user turn, got turns of user, assistant, user"),
    ({"prompt": "x", "completions": [[{"role": "user"}]], "scores": [1]}, PreferenceFields(),
     "field 'completions.0.0': expected a message {role, content}"),
    ({"prompt": "x", "completions": ["a"], "scores": [True]}, PreferenceFields(), "field 'scores.0': not a number"),
])
def test_malformed_rows_name_file_line_and_field(tmp_path, row, fields, message):
    good = {"instruction": "ok", "prompt": "ok", "completions": ["a", "b"], "scores": [1, 2]}
    path = write_jsonl(tmp_path / "bad.jsonl", [good | ({"completions": [{"response": "a", "overall_score": 1},
                                                                          {"response": "b", "overall_score": 2}]}
                                                         if fields is UF_FIELDS else {}), row])
    with pytest.raises(TunaError) as error:
        read_preferences(str(path), "listwise", fields)
    assert error.value.message == f"{path}:2: {message}" or error.value.message.startswith(f"{path}:2: {message}")


def test_malformed_pairs_and_json_array_lines(tmp_path):
    path = write_json(tmp_path / "hh.json", [hh_pair("a", "b", "c"), {"prompt": "a", "chosen": "b"}],
                      indent=2)
    with pytest.raises(TunaError, match=rf"^{path}:7: field 'rejected': missing$"):  # the 2nd object starts there
        read_preferences(str(path), "pairwise", PreferenceFields())
    path = write_jsonl(tmp_path / "hh.jsonl", [{"prompt": "a", "chosen": [{"role": "user", "content": "b"}],
                                                "rejected": "c"}])
    with pytest.raises(TunaError, match="hh.jsonl:1: field 'chosen': expected a conversation ending with an assistant"):
        read_preferences(str(path), "pairwise", PreferenceFields())
    path.write_text('{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": \n')
    with pytest.raises(TunaError, match=r"hh.jsonl:2: not valid JSON"):
        read_preferences(str(path), "pairwise", PreferenceFields())


def test_hub_ids_are_not_resolved_yet(tmp_path):
    with pytest.raises(TunaError, match=r"^hf:openbmb/UltraFeedback: Hub data sets .* not supported yet"):
        read_preferences("hf:openbmb/UltraFeedback", "listwise", UF_FIELDS)
    with pytest.raises(TunaError, match="no such file"):
        read_preferences(str(tmp_path / "missing.jsonl"), "listwise", UF_FIELDS)


def test_import_command_and_a_round_trip_through_the_export(tmp_path):
    source = write_jsonl(tmp_path / "uf.jsonl", UF_ROWS)
    out = tmp_path / "ranked.jsonl"
    result = tuna("import-preferences", str(source), "--format", "listwise",
                  "--field", "prompt=instruction", "--field", "completions=completions.*.response",
                  "--field", "scores=completions.*.overall_score", "-o", str(out))
    assert "2 rankings from 3 rows" in result.output and "rankings with ties: 1" in result.output
    imported = read_jsonl(out, Ranking)
    stamp = json.loads((tmp_path / "ranked.jsonl.provenance.json").read_text())
    assert stamp["params"]["fields"]["scores"] == "completions.*.overall_score" and stamp["counts"]["rows"] == 3

    export = tmp_path / "export"
    result = tuna("export-preferences", str(out), "--format", "listwise", "-o", str(export))
    again = tmp_path / "again.jsonl"
    result = tuna("import-preferences", str(export / "data.jsonl"), "--format", "listwise",
                  "--field", "ranks=ranks", "-o", str(again))
    assert [texts_and_ranks(r) for r in read_jsonl(again, Ranking)] == [texts_and_ranks(r) for r in imported]


@pytest.mark.parametrize("args, message", [
    (["--field", "prompt"], "expected KEY=PATH"),
    (["--field", "promt=x"], "promt: unknown key"),
    (["--field", "scores=a.*.*"], "scores: 'a.*.*': one '*' at most"),
    (["--field", "prompt=a.*"], "prompt: 'a.*': '*' walks a list only in completions, scores and ranks"),
])
def test_import_command_checks_the_field_mapping(tmp_path, args, message):
    source = write_jsonl(tmp_path / "uf.jsonl", UF_ROWS)
    result = tuna("import-preferences", str(source), "--format", "listwise", *args,
                  "-o", str(tmp_path / "o.jsonl"), code=2)
    assert message in result.output
