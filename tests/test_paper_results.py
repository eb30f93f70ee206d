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
