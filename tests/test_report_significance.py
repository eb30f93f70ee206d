"""The report's uncertainty: Table 1 intervals and tests from per-instance results, Table 11
(BERTScore), Table 2 (human scores with marks) and Appendix G (judge vs human ranks), and
the human sheets for ranking examples."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from json_files import write_json
from report_files import layout, report_spec, run_report
from tuna_cli import tuna

from tuna.config.report_spec import HumanEvaluation
from tuna.config.settings import Bootstrap
from tuna.evaluate import human, lmentry, report_significance
from tuna.evaluate.significance import Settings
from tuna.records import RankedCandidate, Ranking, write_jsonl

FAST = Settings(resamples=500, seed=0)


def superni_result(quality: float, seed: int, bert: bool = False) -> dict:
    """Two tasks x 50 instances whose ROUGE-L is `quality` plus noise (same noise per seed)."""
    rng = random.Random(seed)
    shots = {}
    for shot in ("0", "2"):
        per_instance = {f"task{t}": {f"task{t}-{i}": {"exact_match": 0.0, "rougeL": min(1.0, quality + rng.random() / 10),
                                                     **({"bertscore_f1": 0.8 + quality / 10} if bert else {})}
                                     for i in range(50)} for t in (1, 2)}
        scores = [s["rougeL"] for task in per_instance.values() for s in task.values()]
        shots[shot] = {"rougeL": 100 * sum(scores) / len(scores), "per_instance": per_instance,
                       **({"bertscore": {"model": "tiny", "precision": 1.0, "recall": 2.0, "f1": 80 + quality * 10}}
                          if bert else {})}
    return {"shots": shots}


def lmentry_result(right: float, seed: int) -> dict:
    """Verdicts of 12 examples per LMentry file (3 templates x 2 answer positions x 2)."""
    rng = random.Random(seed)
    per_instance = {name: {str(k): [int(rng.random() < right), k % 3, k % 2] for k in range(12)}
                    for name in lmentry.FILES}
    return {"lmentry_score": 100 * right, "per_instance": per_instance}


def vicuna_result(wins: int, losses: int, ties: int) -> dict:
    verdicts = ["model"] * wins + ["baseline"] * losses + ["tie"] * ties + [None]
    return {"win_rate": 100 * wins / (wins + losses + ties), "lose_rate": 100 * losses / (wins + losses + ties),
            "tie_rate": 100 * ties / (wins + losses + ties), "unparsed": 1,
            "per_question": {str(i): v for i, v in enumerate(verdicts)}}


@pytest.fixture
def results(tmp_path):
    """The experiment root of three models' results: alpaca, its twin `copy`, and a better `tuna`."""
    L = layout(tmp_path)
    write_json(Path(L.result("alpaca", "superni")), superni_result(0.3, seed=1, bert=True))
    write_json(Path(L.result("alpaca", "lmentry")), lmentry_result(0.4, seed=1))
    write_json(Path(L.result("copy", "superni")), superni_result(0.3, seed=1, bert=True))  # the baseline's twin
    write_json(Path(L.result("copy", "lmentry")), lmentry_result(0.4, seed=1))
    write_json(Path(L.result("copy", "vicuna")), vicuna_result(10, 10, 20))
    write_json(Path(L.result("tuna", "superni")), superni_result(0.5, seed=2, bert=True))
    write_json(Path(L.result("tuna", "lmentry")), lmentry_result(0.9, seed=2))
    write_json(Path(L.result("tuna", "vicuna")), vicuna_result(30, 5, 5))
    return tmp_path


def test_table1_intervals_and_tests_for_every_delta(results):
    loaded = {m: {b: json.loads(p.read_text()) if (p := Path(layout(results).result(m, b))).exists() else None
                  for b in ("superni", "lmentry", "vicuna")} for m in ("alpaca", "copy", "tuna")}
    table = report_significance.table1_uncertainty(loaded, "alpaca", FAST)
    assert table.loc["alpaca"].isna().all()  # the baseline has no delta
    for column in ("delta_superni_0shot", "delta_superni_2shot", "delta_lmentry"):
        assert table.loc["copy", f"{column}_low"] == table.loc["copy", f"{column}_high"] == 0
        assert table.loc["copy", f"{column}_p_bootstrap"] == 1.0
        assert table.loc["tuna", f"{column}_low"] > 0 and table.loc["tuna", f"{column}_p_bootstrap"] < 0.01
    assert table.loc["copy", "delta_vicuna_net"] == 0 and table.loc["copy", "delta_vicuna_net_p_sign"] == 1.0
    assert table.loc["tuna", "delta_vicuna_net"] == pytest.approx(100 * 25 / 40)
    assert table.loc["tuna", "delta_vicuna_net_p_sign"] < 1e-4 and table.loc["tuna", "delta_vicuna_net_low"] > 0


def test_report_command_shows_intervals_p_values_and_table11(results):
    out = results / "report"
    run_report(report_spec(results, ["alpaca", "copy", "tuna"], bootstrap=Bootstrap(resamples=500)), out)
    table = pd.read_csv(out / "table1.csv", index_col="model")
    assert table.loc["tuna", "delta_superni_0shot"] == pytest.approx(20, abs=1.5)
    assert table.loc["tuna", "delta_superni_0shot_low"] < table.loc["tuna", "delta_superni_0shot"] < (
        table.loc["tuna", "delta_superni_0shot_high"])
    md = (out / "table1.md").read_text()
    assert "delta_superni_0shot_p_bootstrap" in md and "delta_vicuna_net_p_sign" in md
    assert "| 1.0000 |" in md  # p-values with four decimals
    bert = pd.read_csv(out / "table11.csv", index_col=["model", "shots"])
    assert bert.loc[("tuna", 0), "bertscore_f1"] == 85.0 and bert.loc[("tuna", 0), "rougeL"] > 50
    assert bert.loc[("tuna", 2), "delta_bertscore_f1"] == pytest.approx(2.0)
    assert bert.loc[("copy", 2), "delta_bertscore_f1_p_bootstrap"] == 1.0
    stamp = json.loads((out / "provenance.json").read_text())
    assert stamp["params"]["bootstrap"] == {"resamples": 500, "seed": 0}


def filled_sheet(sheet, key, rank_of):
    """Fill a sheet's rank columns with rank_of(item id, key value)."""
    column = next(c for c in next(csv.DictReader(key.open())) if c not in ("question_id", "label"))
    keyed = {(r["question_id"], r["label"]): r[column] for r in csv.DictReader(key.open())}
    rows = list(csv.DictReader(sheet.open()))
    header = list(rows[0])
    for row in rows:
        for label in [h for h in header if h.startswith("response_")]:
            row[f"rank_{label}"] = rank_of(row["question_id"], keyed[(row["question_id"], label)])
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def test_table2_marks_what_a_paired_test_supports(tmp_path):
    from tuna.evaluate.vicuna import Question

    questions = [Question(str(i), f"question {i}", "generic") for i in range(1, 31)]
    answers = {m: {q.id: f"{m} {q.id}" for q in questions} for m in ("alpaca", "tuna_p", "tuna", "twin")}
    sheet, key = tmp_path / "sheet.csv", tmp_path / "key.csv"
    human.export(questions, answers, sheet, key, seed=0)

    def rank(question, model):  # tuna always best; tuna_p beats alpaca on most; twin ties with alpaca by turns
        q = int(question)
        order = {"tuna": 1, "tuna_p": 2 if q % 5 else 4, "alpaca": 3 if q % 2 else 4, "twin": 4 if q % 2 else 3}
        if q % 5 == 0:
            order["alpaca"], order["twin"] = (2, 3) if q % 2 else (3, 2)
        return order[model]

    filled_sheet(sheet, key, rank)
    table = report_significance.table2(human.import_ranks(sheet, key), "alpaca", "tuna")
    assert table.loc["tuna", "marks"] == "*†" and table.loc["tuna", "p_wilcoxon_vs_alpaca"] < 1e-4
    assert table.loc["tuna_p", "marks"] == "*"
    assert table.loc["twin", "marks"] == "" and table.loc["twin", "p_wilcoxon_vs_alpaca"] > 0.5
    assert table.loc["alpaca", "marks"] == ""
    assert set(table.columns) >= {"score", "mean_rank", "ratings", "p_wilcoxon_vs_tuna_p", "p_wilcoxon_vs_twin"}


def rankings(n: int) -> list[Ranking]:
    return [Ranking(id=f"ex{i}", instruction=f"instruction {i}", input="ctx" if i % 2 else "",
                    candidates=[RankedCandidate(text=f"response {i}.{k}", n_tokens=3) for k in range(4)],
                    source="judge") for i in range(n)] + [
        Ranking(id="prm", instruction="x", candidates=[RankedCandidate(text="y", n_tokens=1)] * 2, source="prm")]


def test_ranking_sheets_hide_the_judge_and_agreement_is_spearman(tmp_path):
    write_jsonl(tmp_path / "ranked.jsonl", rankings(12))
    sheet, key = tmp_path / "sheet.csv", tmp_path / "key.csv"
    tuna("human-export-ranking", "--ranked", str(tmp_path / "ranked.jsonl"), "--limit", "10",
         "--seed", "1", "-o", str(sheet), "--key", str(key))
    rows = list(csv.DictReader(sheet.open()))
    assert len(rows) == 10 and "prm" not in {r["question_id"] for r in rows}  # only the judge's ranks are checked
    assert "judge" not in ",".join(rows[0]) and {r["response_1"][-1] for r in rows} != {"0"}  # shuffled
    assert any(r["question"].endswith("ctx") for r in rows)  # the input is shown with the instruction
    # Annotators agree with the judge on even examples and reverse it on odd ones.
    filled_sheet(sheet, key, lambda ex, judge: int(judge) if int(ex[2:]) % 2 == 0 else 5 - int(judge))
    tuna("human-agreement", "--sheet", str(sheet), "--key", str(key),
         "-o", str(tmp_path / "agreement.json"))
    agreement = json.loads((tmp_path / "agreement.json").read_text())
    assert all(rho == (1.0 if int(ex[2:]) % 2 == 0 else -1.0) for ex, rho in agreement["per_example"].items())
    evens = sum(int(ex[2:]) % 2 == 0 for ex in agreement["per_example"])
    assert agreement["examples"] == 10 and agreement["mean_spearman"] == pytest.approx((2 * evens - 10) / 10)
    table = report_significance.appendix_g(agreement)
    assert table.loc["all", "examples"] == 10 and len(table) == 11


def test_report_writes_table2_and_appendix_g_when_given(results, tmp_path):
    write_json(tmp_path / "human.json", {"top": 6, "models": {
        "alpaca": {"score": 3.0, "mean_rank": 3.0, "ratings": 3, "per_question": {"1": 3, "2": 3, "3": 3}},
        "tuna": {"score": 5.0, "mean_rank": 1.0, "ratings": 3, "per_question": {"1": 5, "2": 5, "3": 5}}}})
    write_json(tmp_path / "agreement.json", {"examples": 1, "undefined": 0, "mean_spearman": 0.8,
                                             "median_spearman": 0.8, "per_example": {"ex1": 0.8}})
    out = tmp_path / "report"
    spec = report_spec(results, ["alpaca", "tuna"], bootstrap=Bootstrap(resamples=200),
                       human=HumanEvaluation(scores=tmp_path / "human.json",
                                             ranking_agreement=tmp_path / "agreement.json"))
    run_report(spec, out)
    table2 = pd.read_csv(out / "table2.csv", index_col="model")
    assert table2.loc["tuna", "p_wilcoxon_vs_alpaca"] == pytest.approx(0.25)  # 3 questions cannot reach p < 0.01
    assert pd.isna(table2.loc["tuna", "marks"])
    assert "0.8000" in (out / "appendix_g.md").read_text()
    sources = pd.read_csv(out / "sources.csv")
    assert {"table2", "appendix_g"} <= set(sources["used_for"])
