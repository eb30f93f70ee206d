"""Report pieces: Table 1 with deltas and links, Table 4 lengths by rank, the cost table, sources,
plots, the report spec and sweeps derived from the config, human evaluation."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from json_files import write_json
from report_files import layout, report_spec, run_report
from tuna_cli import tuna

from tuna import provenance
from tuna.config import load, repeat_option
from tuna.config import sweeps as config_sweeps
from tuna.config.report_spec import HumanLabelling, read_spec
from tuna.cost import write_cost
from tuna.errors import TunaError
from tuna.evaluate import human, plots, report, report_cost
from tuna.evaluate.report_tables import markdown, write_table
from tuna.evaluate.vicuna import Question
from tuna.llm.base import Meter
from tuna.records import RankedCandidate, Ranking, write_jsonl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def result(root, model, benchmark, data):
    return write_json(Path(layout(root).result(model, benchmark)), data)


def test_table1_has_deltas_vs_baseline_and_skips_missing(tmp_path):
    result(tmp_path, "alpaca", "superni", {"shots": {"0": {"rougeL": 30.0}, "2": {"rougeL": 35.5}}})
    result(tmp_path, "alpaca", "lmentry", {"lmentry_score": 20.0})
    result(tmp_path, "tuna", "superni", {"shots": {"0": {"rougeL": 32.5}, "2": {"rougeL": 35.0}}})
    result(tmp_path, "tuna", "lmentry", {"lmentry_score": 23.0})
    result(tmp_path, "tuna", "vicuna", {"win_rate": 60.0, "lose_rate": 30.0, "tie_rate": 10.0})
    table = report.table1(report_spec(tmp_path, ["alpaca", "tuna"]))
    assert table.loc["tuna", "delta_superni_0shot"] == 2.5
    assert table.loc["tuna", "delta_superni_2shot"] == -0.5
    assert table.loc["tuna", "delta_lmentry"] == 3.0
    assert table.loc["tuna", "vicuna_win"] == 60.0
    md = markdown(table)
    assert md.splitlines()[0].startswith("| model | superni_0shot")
    assert "| tuna | 32.50 | 35.00 | 23.00 | 60.00 |" in md
    paths = write_table(table, tmp_path / "t", "Table 1")
    assert [p.name for p in paths] == ["t.csv", "t.md", "t.html"]
    assert (tmp_path / "t.csv").read_text().startswith("model,superni_0shot")
    assert "<td>32.50</td>" in (tmp_path / "t.html").read_text()


def test_table1_markdown_links_numbers_to_results_and_provenance(tmp_path):
    out = tmp_path / "results" / "report"
    result(tmp_path, "alpaca", "lmentry", {"lmentry_score": 20.0})
    result(tmp_path, "tuna", "lmentry", {"lmentry_score": 23.0})
    result(tmp_path, "tuna", "vicuna", {"win_rate": 60.0, "lose_rate": 30.0, "tie_rate": 10.0, "unparsed": 2})
    spec = report_spec(tmp_path, ["alpaca", "tuna"])
    table = report.table1(spec)
    assert table.loc["tuna", "vicuna_unparsed"] == 2
    md = markdown(report.table1_links(table, spec, out))
    assert "| tuna | [23.00](../tuna/lmentry.json) | [60.00](../tuna/vicuna.json) |" in md
    assert "| 3.00 | [lmentry](../tuna/lmentry.json.provenance.json) [vicuna](../tuna/vicuna.json.provenance.json) |" in md
    assert "| alpaca | [20.00](../alpaca/lmentry.json) |  |  |  |  | 0.00 |" in md  # no Vicuna row for the baseline


def test_bad_result_json_names_the_file(tmp_path):
    result(tmp_path, "m", "lmentry", {}).write_text("{oops")
    with pytest.raises(TunaError, match="lmentry.json:1: not valid JSON"):
        report.table1(report_spec(tmp_path, ["m"]))


def test_length_by_rank(tmp_path):
    def candidate(words):
        return RankedCandidate(text=" ".join(["w"] * words), n_tokens=words * 2)

    rankings = [Ranking(id=str(i), instruction="i", candidates=[candidate(10 + i), candidate(4)], source="prob")
                for i in range(2)]
    write_jsonl(tmp_path / "r.jsonl", rankings)
    table = report.length_by_rank(tmp_path / "r.jsonl")
    assert list(table.index) == [1, 2]
    assert table.loc[1, "mean_words"] == 10.5 and table.loc[1, "mean_tokens"] == 21.0
    assert table.loc[2, "mean_words"] == 4.0 and table.loc[2, "responses"] == 2


def test_lengths_of_several_datasets_and_of_none(tmp_path):
    for name, words in (("a", 8), ("b", 3)):
        write_jsonl(tmp_path / f"{name}.jsonl", [Ranking(id="1", instruction="i", source="judge", candidates=[
            RankedCandidate(text=" ".join(["w"] * words), n_tokens=words), RankedCandidate(text="w", n_tokens=1)])])
    table = report.lengths({"prob_rank": tmp_path / "a.jsonl", "ctx_rank:alpaca": tmp_path / "b.jsonl"})
    assert table.loc[("ctx_rank:alpaca", 1), "mean_words"] == 3.0 and table.loc[("prob_rank", 2), "mean_tokens"] == 1
    assert list(table.index.get_level_values("data").unique()) == ["prob_rank", "ctx_rank:alpaca"]
    assert markdown(report.lengths({})).startswith("| data | rank | mean_tokens")


def cost_file(path, provider, model, calls, price=None, cached=0):
    meter = Meter(calls=calls, cached=cached, prompt_tokens=100 * calls, completion_tokens=10 * calls,
                  cached_prompt_tokens=100 * cached, cached_completion_tokens=10 * cached)
    return write_cost(path, provider, model, meter, price)


def test_cost_table_sums_per_stage_and_model_with_unparsed_answers(tmp_path):
    price = {"prompt": 0.01, "completion": 0.03}
    teacher = [cost_file(tmp_path / f"teacher/{s}.jsonl", "openai", "gpt-x", 10, price, cached=2) for s in (0, 1)]
    judged = [cost_file(tmp_path / f"judged/{s}.jsonl", "llamacpp", "smol", 4) for s in (0, 1)]
    (tmp_path / "judged/0.quarantine.jsonl").write_text('{"id": "1"}\n{"id": "2"}\n')
    (tmp_path / "judged/1.quarantine.jsonl").write_text("")
    vicuna = cost_file(tmp_path / "tuna/vicuna.json", "llamacpp", "smol", 6)
    write_json(tmp_path / "tuna/vicuna.json", {"unparsed": 1})
    unparsed = report_cost.unparsed_counts([tmp_path / "judged/0.quarantine.jsonl",
                                            tmp_path / "judged/1.quarantine.jsonl"], [tmp_path / "tuna/vicuna.json"])
    table = report_cost.cost_table({"teacher": teacher, "ranking_judge": judged, "vicuna_judge": [vicuna]}, unparsed)
    row = table.loc[("teacher", "openai", "gpt-x")]
    assert row["files"] == 2 and row["calls"] == 24 and row["prompt_tokens"] == 2400  # cached answers count
    assert row["usd"] == pytest.approx(2 * (1200 * 0.01 + 120 * 0.03) / 1000)
    judge = table.loc[("ranking_judge", "llamacpp", "smol")]
    assert pd.isna(judge["usd"]) and judge["unparsed"] == 2
    assert table.loc[("vicuna_judge", "llamacpp", "smol"), "unparsed"] == 1
    total = table.loc[("total", "", "")]
    assert total["calls"] == 24 + 8 + 6 and total["unparsed"] == 3 and total["usd"] == pytest.approx(row["usd"])
    assert "| ranking_judge | llamacpp | smol | 2 | 8 | 800 | 80 |  | 2 |" in markdown(table)


def test_bad_cost_file_names_the_file(tmp_path):
    write_json(tmp_path / "0.cost.json", {"total": {"calls": 1}})
    with pytest.raises(TunaError, match=r"0.cost.json: not a cost file"):
        report_cost.cost_table({"teacher": [tmp_path / "0.cost.json"]})
    with pytest.raises(TunaError, match=r"1.cost.json: cost file not found"):
        report_cost.cost_table({"teacher": [tmp_path / "1.cost.json"]})


def test_sources_give_each_files_hash_and_stamp(tmp_path):
    write_json(tmp_path / "stamped.json", {"lmentry_score": 1.0})
    provenance.stamp([tmp_path / "stamped.json"], params={"x": 1})
    write_json(tmp_path / "bare.json", {})
    table = report.sources([("table1", tmp_path / "stamped.json"), ("cost", tmp_path / "bare.json"),
                            ("cost", tmp_path / "missing.json")])
    stamped = table.loc[str(tmp_path / "stamped.json")]
    assert stamped["sha256"] == provenance.sha256_file(tmp_path / "stamped.json")
    assert stamped["created"] and stamped["provenance"].endswith("stamped.json.provenance.json")
    assert pd.isna(table.loc[str(tmp_path / "bare.json"), "provenance"])
    assert len(table) == 2


def test_report_spec_follows_the_default_config():
    cfg = copy.deepcopy(DEFAULT)
    spec = load(cfg).report_spec()
    assert spec.rankings == {"prob_rank": Path("results/prob_rank/ranked.jsonl"),
                             "ctx_rank:alpaca": Path("results/ctx_rank/alpaca/ranked.jsonl"),
                             "ctx_rank:tuna_p": Path("results/ctx_rank/tuna_p/ranked.jsonl")}
    assert list(spec.costs) == ["teacher", "self_sampling", "ranking_judge", "answers", "vicuna_judge"]
    assert Path("results/prob_rank/teacher/1.cost.json") in spec.costs["teacher"]
    assert Path("results/ctx_rank/tuna_p/judged/0.cost.json") in spec.costs["ranking_judge"]
    assert Path("results/alpaca/answers/vicuna.cost.json") in spec.costs["answers"]
    assert spec.costs["vicuna_judge"] == [Path("results/tuna/vicuna.cost.json")]
    assert sum(map(len, spec.costs.values())) == 2 + 2 * (2 + 2) + 2 + 1
    assert spec.quarantine[0] == Path("results/ctx_rank/alpaca/judged/0.quarantine.jsonl")
    assert spec.results == {"alpaca": {}, "tuna": {"vicuna": Path("results/tuna/vicuna.json")}}
    # held-out results of the evaluated held-out models, keyed by the data set's name
    assert spec.agreement == {m: {"prob_rank": Path(f"results/{m}/agreement_prob_rank.json")}
                              for m in ("alpaca", "tuna")}
    assert spec.nll == {m: {"held_out": Path(f"results/{m}/nll.json")} for m in ("alpaca", "tuna")}
    assert spec.training_curves == {"tuna": Path("checkpoints/tuna")}
    assert spec.human_labelling == HumanLabelling(usd_per_comparison=0.25, comparisons_per_example=6, judged=[
        "results/ctx_rank/alpaca/ranked.jsonl", "results/ctx_rank/tuna_p/ranked.jsonl"])
    assert list(spec.tables_written()) == ["table1", "lengths", "cost", "sources", "jobs"]
    assert spec.jobs["train"] == {m: Path(f"benchmarks/train/{m}.tsv") for m in ("tuna_p", "tuna")}
    assert list(spec.plots_drawn()) == ["vicuna_win_lose_tie", "agreement", "training_curves"]
    assert Path("results/tuna/agreement_prob_rank.json") in spec.inputs()
    cfg["models"]["tuna_c"]["data"] = "prm_rank:alpaca"
    cfg["prms"] = {"prm": {"backbone": "alpaca"}}
    cfg["evaluation"].update(benchmarks=["superni", "lmentry"], models=["alpaca"], tables={"t": ["alpaca"]})
    spec = load(cfg).report_spec()
    assert "prm_rank:alpaca" in spec.rankings
    assert spec.costs["answers"] == [Path("results/alpaca/answers/superni_0shot.cost.json"),
                                     Path("results/alpaca/answers/superni_2shot.cost.json"),
                                     Path("results/alpaca/answers/lmentry.cost.json")]
    assert "vicuna_judge" not in spec.costs and load(cfg).judged_models() == []
    assert spec.prm_agreement == [Path("results/ctx_rank/alpaca/prm_agreement.json")]
    assert list(spec.tables_written()) == ["table1", "lengths", "cost", "sources", "t", "jobs", "prm_agreement"]
    assert repeat_option("--model", ["a", "b c"]) == "--model a --model 'b c'"


def test_a_spec_file_with_a_bad_value_names_the_key(tmp_path):
    with pytest.raises(TunaError, match=r"spec.yaml: lambda_sweeps.x\+prob_rank.b: Input should be a valid number"):
        read_spec("models: [a]\nbaseline: a\nlambda_sweeps: {x+prob_rank: {b: high}}\n", "spec.yaml")
    with pytest.raises(TunaError, match=r"spec.yaml: tabels: unknown key"):
        read_spec("models: [a]\nbaseline: a\ntabels: {}\n", "spec.yaml")
    with pytest.raises(TunaError, match=r"spec.yaml: models: required key missing"):
        read_spec("baseline: a\n", "spec.yaml")


def test_mle_weight_sweeps_group_models_differing_only_in_lambda():
    cfg = copy.deepcopy(DEFAULT)
    models = cfg["models"]
    models["p0"] = {"init": "alpaca", "data": "prob_rank", "train": {"mle_weight": 0.0}}
    models["p5"] = {"init": "alpaca", "data": "prob_rank", "train": {"mle_weight": 5}}
    models["p5_lr"] = {"init": "alpaca", "data": "prob_rank", "train": {"mle_weight": 5, "lr": 3.0e-5}}  # other lr
    models["c0"] = {"init": "alpaca", "data": "ctx_rank:alpaca", "train": {"mle_weight": 0.0}}  # tuna_c's sweep
    models["m0"] = {"init": "alpaca", "data": "prob_rank", "train": {"objective": "mle", "mle_weight": 0.0}}
    models["m1"] = {"init": "alpaca", "data": "prob_rank", "train": {"objective": "mle"}}
    models["lone"] = {"init": "tuna_p", "data": "ctx_rank:tuna_p", "train": {"lr": 1.0e-6, "mle_weight": 1.0}}
    cfg["evaluation"]["models"] = ["alpaca", "tuna_p", "p0", "p5", "p5_lr", "tuna_c", "c0", "m0", "m1", "tuna",
                                   "lone"]
    assert load(cfg).report_spec().lambda_sweeps == {
        "alpaca+prob_rank": {"tuna_p": 1.0, "p0": 0.0, "p5": 5.0},
        "alpaca+ctx_rank:alpaca": {"tuna_c": 1.0, "c0": 0.0},
    }  # tuna and lone share init, data and lambda: the same point twice, no sweep
    cfg["evaluation"]["models"] = ["alpaca", "tuna_p", "tuna"]
    assert config_sweeps.mle_weight_sweeps(load(cfg)) == {}


def test_lambda_sweep_plot_is_a_png(tmp_path):
    for model, score in (("a", 20.0), ("b", 25.0)):
        result(tmp_path, model, "lmentry", {"lmentry_score": score})
    table = report.table1(report_spec(tmp_path, ["a", "b"]))
    out = tmp_path / "sweep.png"
    plots.plot_lambda_sweep(table, {"x+prob_rank": {"a": 0.0, "b": 1.0}}, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_data_sweeps_group_models_differing_only_in_max_examples():
    cfg = copy.deepcopy(DEFAULT)
    models = cfg["models"]
    models["p13"] = {"init": "alpaca", "data": "prob_rank", "train": {"max_examples": 13}}
    models["p39"] = {"init": "alpaca", "data": "prob_rank", "train": {"max_examples": 39}}
    models["p13_lr"] = {"init": "alpaca", "data": "prob_rank", "train": {"max_examples": 13, "lr": 3.0e-5}}
    models["p13_l0"] = {"init": "alpaca", "data": "prob_rank", "train": {"max_examples": 13, "mle_weight": 0.0}}
    models["c13"] = {"init": "alpaca", "data": "ctx_rank:alpaca", "train": {"max_examples": 13}}
    models["sft"] = {"init": "alpaca", "data": "instructions", "train": {"objective": "mle", "deepspeed": None}}
    models["sft8"] = {"init": "alpaca", "data": "instructions", "train": {"objective": "mle", "max_examples": 8}}
    cfg["evaluation"]["models"] = ["alpaca", "tuna_p", "p13", "p39", "p13_lr", "p13_l0", "tuna_c", "c13", "sft",
                                   "sft8", "tuna"]
    assert config_sweeps.data_sweeps(load(cfg)) == {
        "alpaca+prob_rank": {"tuna_p": None, "p13": 13, "p39": 39, "alpaca": 0},  # the init is the 0 point
        "alpaca+ctx_rank:alpaca": {"tuna_c": None, "c13": 13, "alpaca": 0},
        "alpaca+instructions": {"sft": None, "sft8": 8, "alpaca": 0},  # any objective; deepspeed: null is none
    }
    spec = load(cfg).report_spec()
    assert spec.lambda_sweeps == {"alpaca+prob_rank": {"p13": 1.0, "p13_l0": 0.0}}
    assert spec.data_sweeps["alpaca+ctx_rank:alpaca"] == {m: Path(f"checkpoints/{m}")
                                                          for m in ("tuna_c", "c13", "alpaca")}
    cfg["evaluation"]["models"] = ["alpaca", "tuna_p", "p13_lr", "tuna"]
    assert config_sweeps.data_sweeps(load(cfg)) == {}


def trained_checkpoint(path, kept):
    """A checkpoint directory stamped as `tuna train` stamps it (data.kept: examples trained on)."""
    path.mkdir(parents=True)
    provenance.stamp([path], params={"max_examples": kept}, extra={"data": {"read": 52, "kept": kept}})
    return path


def test_report_command_draws_the_data_sweep_from_checkpoint_counts(tmp_path):
    for model, score in (("alpaca", 20.0), ("tuna_p", 24.0), ("p13", 21.0)):
        result(tmp_path, model, "lmentry", {"lmentry_score": score})
    full, part = trained_checkpoint(tmp_path / "ckpt" / "tuna_p", 52), trained_checkpoint(tmp_path / "ckpt" / "p13", 13)
    assert report.trained_examples(full) == 52 and report.trained_examples(part) == 13
    out = tmp_path / "results" / "report"
    spec = report_spec(tmp_path, ["alpaca", "tuna_p", "p13"],
                       data_sweeps={"alpaca+prob_rank": {"tuna_p": full, "p13": part}})
    run_report(spec, out)
    assert out.joinpath("data_sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.joinpath("data_sweep.png").stat().st_size > 5000 and not out.joinpath("lambda_sweep.png").exists()
    stamp = json.loads(out.joinpath("provenance.json").read_text())
    assert stamp["params"]["data_sweeps"] == {"alpaca+prob_rank": {"tuna_p": str(full), "p13": str(part)}}
    sources = {row["file"] for row in csv.DictReader(out.joinpath("sources.csv").open())}
    assert str(part / "provenance.json") in sources

    (part / "provenance.json").write_text(json.dumps({"params": {}}))  # not stamped by tuna train
    run = run_report(spec, out, code=1)
    assert "p13/provenance.json: no count of training examples (data.kept)" in run.output
    (part / "provenance.json").unlink()  # no checkpoint there at all
    run = run_report(spec, out, code=1)
    assert "p13/provenance.json: cannot read (No such file or directory)" in run.output


def test_win_lose_tie_plot_is_a_png(tmp_path):
    out = tmp_path / "vicuna.png"
    plots.plot_win_lose_tie({"tuna": {"win_rate": 60, "tie_rate": 10, "lose_rate": 30},
                              "tuna_p": {"win_rate": 40, "tie_rate": 20, "lose_rate": 40}}, "alpaca", out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_human_export_is_shuffled_anonymized_and_import_scores(tmp_path):
    questions = [Question(str(i), f"question {i}", "generic") for i in range(1, 21)]
    answers = {m: {q.id: f"{m} answer {q.id}" for q in questions} for m in ("alpaca", "tuna", "tuna_p")}
    sheet, key = tmp_path / "sheet.csv", tmp_path / "key.csv"
    assert human.export(questions, answers, sheet, key, seed=1) == 20
    rows = list(csv.DictReader(sheet.open()))
    header = list(rows[0])
    assert not any(m in h for h in header for m in answers)  # no model names in the sheet
    first_positions = {row["response_1"].split()[0] for row in rows}
    assert len(first_positions) > 1  # the order is shuffled across questions
    # An annotator who always ranks tuna first, tuna_p second, alpaca third:
    keyed = {(r["question_id"], r["label"]): r["model"] for r in csv.DictReader(key.open())}
    preference = {"tuna": 1, "tuna_p": 2, "alpaca": 3}
    for row in rows:
        for label in ("response_1", "response_2", "response_3"):
            row[f"rank_{label}"] = preference[keyed[(row["question_id"], label)]]
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    scores = human.import_ranks(sheet, key, top=6)
    assert scores["tuna"] | {"per_question": None} == {"score": 5.0, "mean_rank": 1.0, "ratings": 20,
                                                       "questions": 20, "per_question": None}
    assert scores["tuna"]["per_question"] == {q.id: 5 for q in questions}  # kept for the paired tests
    assert scores["alpaca"]["score"] == 3.0


def test_two_annotators_are_averaged_per_question_and_their_agreement_reported(tmp_path):
    questions = [Question(str(i), f"question {i}", "generic") for i in range(1, 5)]
    answers = {m: {q.id: f"{m} answer {q.id}" for q in questions} for m in ("alpaca", "tuna", "tuna_p")}
    sheet, key = tmp_path / "sheet.csv", tmp_path / "key.csv"
    human.export(questions, answers, sheet, key, seed=3)
    rows = list(csv.DictReader(sheet.open()))
    keyed = {(r["question_id"], r["label"]): r["model"] for r in csv.DictReader(key.open())}

    def fill(path, preference, skip=()):
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                labels = [h for h in row if h.startswith("response_")]
                ranks = {} if row["question_id"] in skip else {
                    f"rank_{label}": preference[keyed[(row["question_id"], label)]] for label in labels}
                writer.writerow({**row, **ranks})

    ann, bob = tmp_path / "ann.csv", tmp_path / "bob.csv"
    fill(ann, {"tuna": 1, "tuna_p": 2, "alpaca": 3})
    fill(bob, {"tuna": 2, "tuna_p": 1, "alpaca": 3}, skip={"4"})  # bob left question 4 out
    scores = human.import_ranks([ann, bob], key, top=6)
    assert scores["tuna"]["per_question"] == {"1": 4.5, "2": 4.5, "3": 4.5, "4": 5.0}  # (5 + 4) / 2; ann alone
    assert scores["tuna"]["score"] == 4.625 and scores["tuna"]["ratings"] == 7 and scores["tuna"]["questions"] == 4
    assert scores["alpaca"]["per_question"] == {q.id: 3.0 for q in questions}
    agreement = human.annotator_agreement([ann, bob], key, top=6)
    # Per question the two rank (alpaca, tuna, tuna_p) as (3, 1, 2) and (3, 2, 1): rank sums (6, 3, 3),
    # S = 6, W = 12 S / (m^2 (n^3 - n)) = 72 / 96; Spearman's rho = 1 - 6 * 2 / (3 * 8) = 0.5.
    assert agreement["kendall_w_per_question"] == {"1": 0.75, "2": 0.75, "3": 0.75}
    assert agreement["mean_kendall_w"] == 0.75 and agreement["mean_spearman_by_pair"] == {"ann~bob": 0.5}
    assert human.annotator_agreement([ann], key) is None
    tuna("human-import", "--sheet", str(ann), "--sheet", str(bob), "--key", str(key),
         "-o", str(tmp_path / "human.json"))
    written = json.loads((tmp_path / "human.json").read_text())
    assert written["models"]["tuna"]["score"] == 4.625 and written["agreement"]["mean_kendall_w"] == 0.75


def test_kendall_w_is_one_for_identical_rankings_and_corrects_for_ties():
    assert human.kendall_w([[1, 2, 3, 4]] * 3) == 1.0
    assert human.kendall_w([[1, 2, 3], [3, 2, 1]]) == 0.0
    assert human.kendall_w([[1, 1, 2], [1, 1, 2]]) == 1.0  # tied ranks, identical: still full agreement
    assert human.kendall_w([[1, 1], [1, 1]]) is None


def test_human_import_rejects_bad_rank(tmp_path):
    sheet, key = tmp_path / "s.csv", tmp_path / "k.csv"
    key.write_text("question_id,label,model\n1,response_1,tuna\n")
    sheet.write_text("question_id,question,response_1,rank_response_1\n1,q,a,first\n")
    with pytest.raises(TunaError, match=r"s.csv:2: rank_response_1: rank must be a whole number"):
        human.import_ranks(sheet, key)


def test_report_command_writes_more_tables_and_the_human_labelling_row(tmp_path):
    for model, score in (("alpaca", 20.0), ("tuna_p", 24.0), ("mix", 21.0)):
        result(tmp_path, model, "lmentry", {"lmentry_score": score})
    judged = tmp_path / "ctx.jsonl"
    write_jsonl(judged, [Ranking(id=f"r{k}", instruction="x", source="judge",
                                 candidates=[RankedCandidate(text="a b", n_tokens=2)]) for k in range(3)])
    imported = tmp_path / "ckpt" / "alpaca"
    imported.mkdir(parents=True)
    provenance.stamp([imported], params={"source": "/models/alpaca-7b"})
    assert report.trained_examples(imported) == 0  # an imported model: the 0 point of a data-amount sweep
    out = tmp_path / "results" / "report"
    spec = report_spec(tmp_path, ["alpaca", "tuna_p", "mix"], rankings={"ctx_rank:alpaca": judged},
                       tables={"table3": ["alpaca", "mix"]},
                       human_labelling=HumanLabelling(usd_per_comparison=0.25, comparisons_per_example=6,
                                                      judged=[judged]))
    run_report(spec, out)
    rows = list(csv.DictReader(out.joinpath("table3.csv").open()))
    assert [r["model"] for r in rows] == ["alpaca", "mix"] and float(rows[1]["delta_lmentry"]) == 1.0
    assert out.joinpath("table3.md").exists() and out.joinpath("table3.html").exists()
    human = [r for r in csv.DictReader(out.joinpath("cost.csv").open()) if r["provider"] == "human"]
    assert len(human) == 1 and (human[0]["calls"], float(human[0]["usd"])) == ("18", 4.5)  # 3 examples x 6 x 0.25
    assert read_spec(out.joinpath("spec.json").read_text(), "spec.json") == spec  # kept for audit
    stamp = json.loads(out.joinpath("provenance.json").read_text())
    assert stamp["params"]["tables"] == {"table3": ["alpaca", "mix"]}
    assert {Path(i["path"]) for i in stamp["inputs"]} == {judged, *(Path(layout(tmp_path).result(m, "lmentry"))
                                                                   for m in ("alpaca", "tuna_p", "mix"))}


def test_report_command_writes_the_objectives_table_naming_each_models_objective(tmp_path):
    for model, score in (("alpaca", 20.0), ("m_rank", 24.0), ("m_dpo", 22.5)):
        result(tmp_path, model, "lmentry", {"lmentry_score": score})
    out = tmp_path / "results" / "report"
    objectives = {"alpaca": "imported", "m_dpo": "dpo", "m_rank": "rank"}  # its own order, not Table 1's
    spec = report_spec(tmp_path, ["alpaca", "m_rank", "m_dpo"], objectives=objectives)
    assert spec.tables_written()["objectives"] == "Objectives"
    run = run_report(spec, out)
    assert run.exit_code == 0, run.output
    rows = list(csv.DictReader(out.joinpath("objectives.csv").open()))
    assert [(r["model"], r["objective"], float(r["lmentry"])) for r in rows] == [
        ("alpaca", "imported", 20.0), ("m_dpo", "dpo", 22.5), ("m_rank", "rank", 24.0)]
    assert float(rows[1]["delta_lmentry"]) == 2.5  # Table 1's columns, deltas against the baseline
    md = out.joinpath("objectives.md").read_text()
    assert md.splitlines()[0].startswith("| model | objective | lmentry") and "| m_dpo | dpo | [22.50](" in md
    assert out.joinpath("objectives.html").exists()
    run = run_report(report_spec(tmp_path, ["alpaca", "m_rank"]), tmp_path / "plain")
    assert run.exit_code == 0 and not (tmp_path / "plain" / "objectives.csv").exists()  # no objectives: no table


def test_the_plan_names_objectives_only_when_one_is_not_tunas():
    cfg = copy.deepcopy(DEFAULT)
    assert load(cfg).report_spec().objectives == {}  # Tuna's rank (and imported models) only
    cfg["models"]["tuna_s"] = {"init": "alpaca", "data": "prob_rank", "train": {"objective": "simpo"}}
    cfg["evaluation"]["models"] = ["alpaca", "tuna", "tuna_s"]
    spec = load(cfg).report_spec()
    assert spec.objectives == {"alpaca": "imported", "tuna": "rank", "tuna_s": "simpo"}
    assert list(spec.tables_written())[:6] == ["table1", "lengths", "cost", "sources", "jobs", "objectives"]
    cfg["evaluation"]["tables"] = {"objectives": ["alpaca"]}
    with pytest.raises(TunaError, match="evaluation.tables.objectives: a table name matches .* not one of the "
                                        "report's own tables"):
        load(cfg)


def test_report_reads_its_spec_from_standard_input_as_the_rule_gives_it(tmp_path):
    result(tmp_path, "alpaca", "lmentry", {"lmentry_score": 20.0})
    spec = report_spec(tmp_path, ["alpaca"])
    out = tmp_path / "results" / "report"
    run = tuna("report", "--spec", "-", "-o", str(out), input=spec.model_dump_json())
    assert [r["lmentry"] for r in csv.DictReader(out.joinpath("table1.csv").open())] == ["20.0"]
    assert read_spec(out.joinpath("spec.json").read_text(), "spec.json") == spec
    run = tuna("report", "--spec", "-", "-o", str(out), input="models: [a]\n", code=1)
    assert "Error: <stdin>: baseline: required key missing" in run.output


def test_an_alias_row_shows_its_models_numbers_under_the_alias(tmp_path):
    for model, score in (("alpaca", 20.0), ("prm3b_52k", 23.0)):
        result(tmp_path, model, "lmentry", {"lmentry_score": score})
    out = tmp_path / "results" / "report"
    spec = report_spec(tmp_path, ["alpaca", "prm3b_52k"], rows=["alpaca", "tuna_c_prm", "prm3b_52k"],
                       aliases={"tuna_c_prm": "prm3b_52k"}, tables={"table8": ["alpaca", "tuna_c_prm"]})
    run_report(spec, out)
    rows = list(csv.DictReader(out.joinpath("table1.csv").open()))
    assert [(r["model"], r["lmentry"], r["delta_lmentry"]) for r in rows] == [
        ("alpaca", "20.0", "0.0"), ("tuna_c_prm", "23.0", "3.0"), ("prm3b_52k", "23.0", "3.0")]
    assert [r["model"] for r in csv.DictReader(out.joinpath("table8.csv").open())] == ["alpaca", "tuna_c_prm"]
    md = out.joinpath("table8.md").read_text()
    assert "| tuna_c_prm | [23.00](../prm3b_52k/lmentry.json)" in md  # the alias's number links its model's file
    with pytest.raises(TunaError, match=r"spec.yaml: .*tables.t: 'tuna_c' is neither an evaluated model nor an alias"):
        read_spec("models: [a]\nbaseline: a\naliases: {b: a}\ntables: {t: [b, tuna_c]}\n", "spec.yaml")


def test_the_paper_configs_report_names_table_1s_alias_row_after_the_alias():
    spec = load(yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())).report_spec()
    assert spec.aliases == {"tuna_c_prm": "tuna_c_prm3b_52k"}
    rows = spec.table1_rows()
    assert rows.index("tuna_c_prm") == rows.index("tuna_c") + 1 and "tuna_c_prm3b_52k" in rows
    assert "tuna_c_prm" not in spec.models and spec.model_of("tuna_c_prm") == "tuna_c_prm3b_52k"
