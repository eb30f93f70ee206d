"""The paper's numbers beside the measured ones in a report table (`paper_numbers` of the
report spec): tuna.evaluate.paper.beside for the numbers, and the Markdown cells, where
each measured number keeps its link to the file it was read from."""

from __future__ import annotations

import pandas as pd

from tuna.evaluate import paper
from tuna.evaluate.report_tables import column_digits, format_cell


def beside(table: pd.DataFrame, linked: pd.DataFrame, name: str, baseline: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(numbers, Markdown cells) of a Table 1-layout table named `name` (the paper's table of
    that name is preferred for labels and holds the quoted rows) with the paper's columns."""
    shown = paper.beside(table, name, baseline)
    cells = shown.astype(object).apply(lambda column: column.map(
        lambda value: format_cell(value, column_digits(column.name))))
    measured = linked.columns.intersection(cells.columns)
    cells.loc[linked.index, measured] = linked[measured]
    if "provenance" in linked:
        cells["provenance"] = linked["provenance"].reindex(cells.index).fillna("")
    return shown, cells
