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


def quoted_rows() -> list[PaperRow]:
    """The rows whose numbers the paper quotes from other papers (not measured by its authors)."""
    return [row for table in tables().values() for row in table.rows if row.quoted]
