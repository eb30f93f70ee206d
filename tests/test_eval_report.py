"""Report pieces: Table 1 with deltas, Table 4 lengths by rank, win/lose/tie plot, human evaluation."""

from __future__ import annotations

import csv
import json

import pytest

from tuna.errors import TunaError
from tuna.evaluate import human, report
from tuna.evaluate.vicuna import Question
from tuna.records import RankedCandidate, Ranking, write_jsonl


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_table1_has_deltas_vs_baseline_and_skips_missing(tmp_path):
    write(tmp_path / "alpaca" / "superni.json", {"shots": {"0": {"rougeL": 30.0}, "2": {"rougeL": 35.5}}})
    write(tmp_path / "alpaca" / "lmentry.json", {"lmentry_score": 20.0})
    write(tmp_path / "tuna" / "superni.json", {"shots": {"0": {"rougeL": 32.5}, "2": {"rougeL": 35.0}}})
    write(tmp_path / "tuna" / "lmentry.json", {"lmentry_score": 23.0})
    write(tmp_path / "tuna" / "vicuna.json", {"win_rate": 60.0, "lose_rate": 30.0, "tie_rate": 10.0})
    table = report.table1(tmp_path, ["alpaca", "tuna"], "alpaca")
    assert table.loc["tuna", "delta_superni_0shot"] == 2.5
    assert table.loc["tuna", "delta_superni_2shot"] == -0.5
    assert table.loc["tuna", "delta_lmentry"] == 3.0
    assert table.loc["tuna", "vicuna_win"] == 60.0
    md = report.markdown(table)
    assert md.splitlines()[0].startswith("| model | superni_0shot")
    assert "| tuna | 32.50 | 35.00 | 23.00 | 60.00 |" in md
    report.write_table(table, tmp_path / "t.csv", tmp_path / "t.md")
    assert (tmp_path / "t.csv").read_text().startswith("model,superni_0shot")


def test_bad_result_json_names_the_file(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "lmentry.json").write_text("{oops")
    with pytest.raises(TunaError, match="lmentry.json:1: not valid JSON"):
        report.table1(tmp_path, ["m"], "m")


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


def test_win_lose_tie_plot_is_a_png(tmp_path):
    out = tmp_path / "vicuna.png"
    report.plot_win_lose_tie({"tuna": {"win_rate": 60, "tie_rate": 10, "lose_rate": 30},
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
    assert scores["tuna"] == {"score": 5.0, "mean_rank": 1.0, "ratings": 20}
    assert scores["alpaca"]["score"] == 3.0


def test_human_import_rejects_bad_rank(tmp_path):
    sheet, key = tmp_path / "s.csv", tmp_path / "k.csv"
    key.write_text("question_id,label,model\n1,response_1,tuna\n")
    sheet.write_text("question_id,question,response_1,rank_response_1\n1,q,a,first\n")
    with pytest.raises(TunaError, match=r"s.csv:2: rank_response_1: rank must be a whole number"):
        human.import_ranks(sheet, key)
