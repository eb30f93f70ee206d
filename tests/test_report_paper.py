"""The paper's numbers beside ours (`paper_numbers` of the report spec): Table 1 and an extra
table carry the paper's label, numbers, deltas and the check against our interval; Table 1
lists the rows the paper quotes, with their source."""

from __future__ import annotations

import csv
from pathlib import Path

from json_files import write_json
from report_files import layout, report_spec, run_report


def superni(root: Path, model: str, scores: list[float]) -> None:
    """A Super-NI result whose 0-shot ROUGE-L (%) is the mean of per-instance `scores` (one task)."""
    instances = {f"i{k}": {"rougeL": score / 100} for k, score in enumerate(scores)}  # per instance: a fraction
    write_json(Path(layout(root).result(model, "superni")),
          {"shots": {"0": {"rougeL": sum(scores) / len(scores), "per_instance": {"task1": instances}}}})


def rows(path: Path) -> dict[str, dict]:
    return {row["model"]: row for row in csv.DictReader(path.open())}


def test_the_papers_numbers_stand_beside_ours_in_table_1_and_table_8(tmp_path):
    base = [30.0, 34.0, 38.0, 42.0] * 5
    superni(tmp_path, "alpaca", base)
    superni(tmp_path, "tuna_p", [b + d for b, d in zip(base, [3.0, 3.8, 3.3, 3.5] * 5, strict=True)])  # ~ +3.4
    superni(tmp_path, "tuna_c_prm3b_52k", [b + d for b, d in zip(base, [4.9, 5.1] * 10, strict=True)])  # +5
    out = tmp_path / "results" / "report"
    spec = report_spec(tmp_path, ["alpaca", "tuna_p", "tuna_c_prm3b_52k"],
                       rows=["alpaca", "tuna_p", "tuna_c_prm", "tuna_c_prm3b_52k"],
                       aliases={"tuna_c_prm": "tuna_c_prm3b_52k"},
                       tables={"table8": ["alpaca", "tuna_p", "tuna_c_prm3b_52k"]}, paper_numbers=True)
    run_report(spec, out)
    table1 = rows(out / "table1.csv")
    assert list(table1) == ["alpaca", "tuna_p", "tuna_c_prm", "tuna_c_prm3b_52k",
                            "T5-LM 11B (quoted)", "T0 11B (quoted)", "InstructGPT 175B (quoted)"]
    tuna_p = table1["tuna_p"]
    assert (tuna_p["paper_row"], tuna_p["paper_superni_0shot"], tuna_p["paper_delta_superni_0shot"]) == (
        "Tuna_p", "39.4", "3.4")  # 39.4 - Alpaca's 36.0
    assert float(tuna_p["delta_superni_0shot_low"]) <= 3.4 <= float(tuna_p["delta_superni_0shot_high"])
    assert tuna_p["paper_delta_superni_0shot_in_ci"] == "True" and tuna_p["paper_delta_vicuna_net"] == "41.0"
    # the alias is Table 1's "Tuna_c (PRM)"; its model is Table 8's "Tuna_c (PRM-3B-52K)": the same numbers
    alias, model = table1["tuna_c_prm"], table1["tuna_c_prm3b_52k"]
    assert (alias["paper_row"], model["paper_row"]) == ("Tuna_c (PRM)", "Tuna_c (PRM-3B-52K)")
    assert alias["paper_delta_superni_0shot"] == model["paper_delta_superni_0shot"] == "-1.8"
    assert alias["superni_0shot"] == model["superni_0shot"] and alias["paper_delta_superni_0shot_in_ci"] == "False"
    quoted = table1["InstructGPT 175B (quoted)"]
    assert (quoted["paper_superni_2shot"], quoted["superni_0shot"]) == ("52.1", "")
    assert "Wang et al. (2022b)" in quoted["paper_source"]
    md = (out / "table1.md").read_text()
    assert "| tuna_p | Tuna_p | [" in md and "](../tuna_p/superni.json) | 39.40 |" in md  # ours linked, theirs beside
    assert "| InstructGPT 175B (quoted) | InstructGPT 175B |" in md
    table8 = rows(out / "table8.csv")
    assert list(table8) == ["alpaca", "tuna_p", "tuna_c_prm3b_52k"] and "paper_source" not in table8["alpaca"]
    assert table8["tuna_c_prm3b_52k"]["paper_superni_2shot"] == "40.1"


def test_without_paper_numbers_the_tables_hold_only_ours(tmp_path):
    superni(tmp_path, "alpaca", [30.0, 40.0])
    out = tmp_path / "results" / "report"
    run_report(report_spec(tmp_path, ["alpaca"]), out)
    assert list(rows(out / "table1.csv")) == ["alpaca"]
    assert not any(c.startswith("paper_") for c in next(iter(rows(out / "table1.csv").values())))
