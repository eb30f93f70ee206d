"""The shipped paper results (tuna/data/paper_results.yaml) against the paper's own text
(../shared/paper): every row as printed, the deltas in parentheses recomputed from the
values, and every row's model declared in config/paper.yaml."""

import re
from pathlib import Path

import pytest
import yaml

from tuna.evaluate import paper

ROOT = Path(__file__).resolve().parent.parent
PAPER_TEXT = ROOT.parent / "shared" / "paper" / "tuna-2310.13385.txt"
PAPER_CONFIG = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())


@pytest.fixture(scope="module")
def text() -> str:
    if not PAPER_TEXT.exists():
        pytest.skip(f"{PAPER_TEXT} not found (the paper's text lives beside the project)")
    return squeeze(PAPER_TEXT.read_text(encoding="utf-8"))


def squeeze(line: str) -> str:
    """The text without spaces and subscript marks, as the PDF's text layer runs words together."""
    return re.sub(r"[\s_]", "", line).replace("∗", "*")


def number(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def delta(value, baseline) -> str:
    return "" if value is None or baseline is None else f"({value - baseline:+.1f})"


def benchmark_line(row: paper.PaperRow, alpaca: paper.PaperRow, relative: bool) -> str:
    """A Table 1/3/8 row as printed: scores (with their delta to Alpaca in the rows below it), then %."""
    scores = [(row.values[c], alpaca.values[c]) for c in ("superni_0shot", "superni_2shot", "lmentry")]
    printed = [number(v, 1) + (delta(v, base) if relative else "") for v, base in scores]
    printed += ["-" if row.values[c] is None else f"{row.values[c]}%" for c in ("vicuna_win", "vicuna_lose", "vicuna_tie")]
    return " ".join([row.row, *printed])


@pytest.mark.parametrize("table", ["table1", "table3", "table8"])
def test_benchmark_tables_are_printed_rows_with_their_deltas(text, table):
    rows = paper.tables()[table].rows
    [below] = [index for index, row in enumerate(rows) if row.model == "alpaca"]
    for index, row in enumerate(rows):
        line = benchmark_line(row, rows[below], relative=index > below)
        assert squeeze(line) in text, line


def test_table2_human_scores_and_marks(text):
    rows = paper.tables()["table2"].rows
    assert squeeze("Model " + " ".join(row.row for row in rows)) in text
    assert squeeze("Score " + " ".join(f"{row.values['human_score']:.2f}{row.marks}" for row in rows)) in text


def test_table5_nll_by_beta(text):
    rows = paper.tables()["table5"].rows
    assert squeeze("β " + " ".join(row.row.removeprefix("beta ") for row in rows)) in text
    assert squeeze("NLL " + " ".join(f"{row.values['nll_lima']:.2f}" for row in rows)) in text


def test_table10_and_table11(text):
    for row in paper.tables()["table10"].rows:
        assert squeeze(f"{row.row} " + " ".join(f"{v}%" for v in row.values.values())) in text, row.row
    for row in paper.tables()["table11"].rows:
        assert squeeze(f"{row.row} " + " ".join(f"{v:.3f}" for v in row.values.values())) in text, row.row


def test_quoted_rows_are_table_1s_models_from_other_papers(text):
    quoted = paper.quoted_rows()
    assert [row.row for row in quoted] == ["T5-LM 11B", "T0 11B", "InstructGPT 175B"]
    assert all(row.model is None and "Wang et al. (2022b)" in row.quoted and "Efrat et al. (2022)" in row.quoted
               for row in quoted)
    assert squeeze("are taken from Wang et al. (2022b); Efrat et al. (2022)") in text


def test_every_row_names_a_model_of_config_paper_yaml_or_none():
    declared = set(PAPER_CONFIG["models"])
    for table in paper.tables().values():
        for row in table.rows:
            assert row.model is None or row.model in declared, (table.name, row.row, row.model)
    assert [row.table for row in paper.rows_of("tuna_c_prm")] == ["table1"]  # the alias of tuna_c_prm3b_52k
    assert [row.table for row in paper.rows_of("tuna_c_prm3b_52k")] == ["table8"]
    assert [row.table for row in paper.rows_of("tuna_p")] == ["table1", "table2", "table3", "table5", "table8",
                                                                 "table11"]


def test_the_papers_numbers_stand_beside_the_measured_ones():
    import pandas as pd

    measured = pd.DataFrame({
        "superni_0shot": [30.0, 33.5, 31.0], "delta_superni_0shot": [None, 3.5, 1.0],
        "delta_superni_0shot_low": [None, 2.9, -0.5], "delta_superni_0shot_high": [None, 4.1, 2.5],
        "vicuna_win": [None, 60.0, 50.0], "vicuna_lose": [None, 30.0, 40.0],
        "delta_vicuna_net": [None, 30.0, 10.0], "delta_vicuna_net_low": [None, 20.0, 0.0],
        "delta_vicuna_net_high": [None, 45.0, 20.0],
    }, index=pd.Index(["alpaca", "tuna_p", "mine"], name="model"))
    table = paper.beside(measured, "table1", "alpaca")
    assert table.loc["tuna_p", "paper_row"] == "Tuna_p" and table.loc["tuna_p", "paper_superni_0shot"] == 39.4
    assert table.loc["tuna_p", "paper_delta_superni_0shot"] == 3.4  # 39.4 - 36.0: inside [2.9, 4.1]
    assert table.loc["tuna_p", "paper_delta_superni_0shot_in_ci"]
    assert table.loc["tuna_p", "paper_delta_vicuna_net"] == 41 and table.loc["tuna_p", "paper_delta_vicuna_net_in_ci"]
    assert pd.isna(table.loc["mine", "paper_row"]) and pd.isna(table.loc["mine", "paper_superni_0shot"])
    quoted = table.loc["InstructGPT 175B (quoted)"]
    assert quoted["paper_superni_2shot"] == 52.1 and quoted["paper_lmentry"] == 48.4
    assert "Wang et al. (2022b)" in quoted["paper_source"] and pd.isna(quoted["superni_0shot"])
    columns = list(table.columns)
    assert columns[:3] == ["paper_row", "superni_0shot", "paper_superni_0shot"]
    assert columns.index("paper_delta_superni_0shot_in_ci") == columns.index("delta_superni_0shot_high") + 1
    in_table8 = paper.beside(measured.loc[["alpaca", "tuna_p"]], "table8", "alpaca")
    assert "paper_source" not in in_table8 and len(in_table8) == 2  # Table 8 quotes nothing
