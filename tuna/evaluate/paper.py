"""The paper's published results, shipped as data (tuna/data/paper_results.yaml).

So a reproduction can show its distance from the paper at a glance: every number of
Tables 1, 2, 3, 5, 8, 10 and 11 as printed, each row with the paper's label, the name of
the model in config/paper.yaml, and for the numbers the paper quotes from other papers
(T5-LM, T0, InstructGPT in Table 1) their source.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from tuna.errors import TunaError

RESULTS_FILE = "paper_results.yaml"


@dataclass(frozen=True)
class PaperRow:
    """One row of a table of the paper."""

    table: str
    row: str  # the paper's label
    model: str | None  # the model's name in config/paper.yaml (None: not declared there)
    values: dict[str, float | None]  # column -> number (None: the paper prints "-")
    quoted: str | None = None  # the source of numbers the paper takes from other papers
    marks: str | None = None  # Table 2's significance marks


@dataclass(frozen=True)
class PaperTable:
    name: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[PaperRow, ...]


@cache
def tables() -> dict[str, PaperTable]:
    """Every table of the file, in the paper's order; a malformed row is a one-line error."""
    raw = yaml.safe_load(resources.files("tuna.data").joinpath(RESULTS_FILE).read_text("utf-8"))
    out = {}
    for name, table in raw.items():
        columns = tuple(table["columns"])
        rows = []
        for index, row in enumerate(table["rows"]):
            if len(row["values"]) != len(columns):
                raise TunaError(f"{RESULTS_FILE}: {name}.rows.{index} ({row['row']}): {len(row['values'])} values "
                                f"for {len(columns)} columns")
            rows.append(PaperRow(name, row["row"], row.get("model"), dict(zip(columns, row["values"], strict=True)),
                                 row.get("quoted"), row.get("marks")))
        out[name] = PaperTable(name, table["caption"], columns, tuple(rows))
    return out


def rows_of(model: str) -> list[PaperRow]:
    """Every row of the paper that reports `model` (config/paper.yaml's name), in table order."""
    return [row for table in tables().values() for row in table.rows if row.model == model]


def quoted_rows(table: str | None = None) -> list[PaperRow]:
    """The rows whose numbers the paper quotes from other papers (not measured by its authors),
    of one table or of all."""
    return [row for name, rows in tables().items() if table in (None, name) for row in rows.rows if row.quoted]


# A report column -> (the paper's column, tuna's number per the paper's): BERTScore is x100 in tuna.
REPORT_COLUMNS = {"superni_0shot": ("superni_0shot", 1), "superni_2shot": ("superni_2shot", 1),
                  "lmentry": ("lmentry", 1), "vicuna_win": ("vicuna_win", 1), "vicuna_lose": ("vicuna_lose", 1),
                  "vicuna_tie": ("vicuna_tie", 1), "superni_0shot_bertscore": ("bertscore_0shot", 100),
                  "superni_2shot_bertscore": ("bertscore_2shot", 100)}


def values_of(model: str, prefer: str | None = None) -> tuple[str | None, dict[str, float]]:
    """The paper's label of `model` and its numbers in report columns, from every table that
    reports it (the tables agree; `prefer`'s label and numbers first), or (None, {})."""
    rows = sorted(rows_of(model), key=lambda row: row.table != prefer)
    values: dict[str, float] = {}
    for column, (theirs, scale) in REPORT_COLUMNS.items():
        found = [row.values[theirs] for row in rows if row.values.get(theirs) is not None]
        if found:
            values[column] = round(found[0] * scale, 4)
    return (rows[0].row if rows else None), values


def beside(table, name: str, baseline: str):
    """A report table (rows: models, columns: the measured numbers, `delta_*` with their
    `_low`/`_high` interval) with the paper's numbers beside them: `paper_row` (its label),
    `paper_{column}`, `paper_delta_{column}` (against the paper's baseline) and
    `paper_delta_{column}_in_ci` (whether the paper's delta lies in the measured 95% interval),
    Vicuna's net win rate likewise; then the rows the paper quotes from other papers in the
    paper table of the same name, with `paper_source`. Models without a paper row keep
    empty paper columns."""
    import pandas as pd

    _, base = values_of(baseline, name)
    out = table.copy()
    labels, rows = {}, {}
    for model in table.index:
        labels[model], rows[model] = values_of(str(model), name)
    paper = pd.DataFrame.from_dict(rows, orient="index").reindex(table.index)
    out.insert(0, "paper_row", pd.Series(labels).reindex(table.index))
    for column in REPORT_COLUMNS:
        if column in paper:
            out[f"paper_{column}"] = paper[column]
    net = {m: v["vicuna_win"] - v["vicuna_lose"] for m, v in rows.items() if "vicuna_win" in v}
    deltas = {column: {m: v[column] - base[column] for m, v in rows.items() if column in v and column in base
                       and m != baseline} for column in REPORT_COLUMNS if column.startswith(("superni", "lmentry"))}
    deltas["vicuna_net"] = {m: value for m, value in net.items() if m != baseline}
    for column, values in deltas.items():
        if not values:
            continue
        delta = pd.Series(values, dtype=float).reindex(table.index)
        out[f"paper_delta_{column}"] = delta.round(4)
        low, high = f"delta_{column}_low", f"delta_{column}_high"
        if low in out and high in out:
            inside = (delta >= out[low]) & (delta <= out[high])
            out[f"paper_delta_{column}_in_ci"] = inside.where(delta.notna() & out[low].notna())
    quoted = quoted_rows(name)
    if quoted:
        extra = pd.DataFrame([{"paper_row": row.row, "paper_source": row.quoted,
                               **{f"paper_{c}": row.values[theirs] * scale for c, (theirs, scale) in
                                  REPORT_COLUMNS.items() if row.values.get(theirs) is not None}}
                              for row in quoted], index=pd.Index([f"{row.row} (quoted)" for row in quoted]))
        out = pd.concat([out, extra]).rename_axis(table.index.name)
    return out[_paper_beside_measured(list(table.columns), out.columns)]


def _paper_beside_measured(measured: list[str], columns) -> list[str]:
    """Column order: each paper number right after the measured one (a delta's check after its interval)."""
    order = [c for c in ("paper_row",) if c in columns]
    for column in measured:
        order.append(column)
        order += [c for c in (f"paper_{column}",) if c in columns]
        if column.endswith("_high"):
            order += [c for c in (f"paper_{column.removesuffix('_high')}_in_ci",) if c in columns]
    return order + [c for c in columns if c not in order]
