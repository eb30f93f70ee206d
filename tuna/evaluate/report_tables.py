"""Writing the report's tables: each as CSV (the numbers), Markdown (GitHub-flavoured, for
reading and linking) and a standalone HTML page (what `snakemake --report` shows)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd

from tuna.records import atomic_output

P_DIGITS = 4  # decimals of p-values


def format_cell(value, digits: int = 2) -> str:
    """Empty for missing values, floats with `digits` decimals, anything else as text."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def column_digits(column, digits: int = 2) -> int:
    """Decimals of a column: p-values (`*_p_*`, `p_*`) get 4, everything else `digits`."""
    name = str(column)
    return P_DIGITS if "_p_" in name or name.startswith("p_") else digits


def markdown(table: pd.DataFrame, digits: int = 2) -> str:
    """A GitHub-flavoured Markdown table (empty cells for missing values)."""
    frame = table.reset_index()
    places = [column_digits(c, digits) for c in frame.columns]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(format_cell(v, d) for v, d in zip(row, places, strict=True)) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def html(table: pd.DataFrame, title: str, digits: int = 2) -> str:
    """A standalone HTML page of the table (what `snakemake --report` shows inline)."""
    formatters = {c: partial(format_cell, digits=column_digits(c, digits)) for c in table.columns}
    body = table.to_html(na_rep="", formatters=formatters, border=0, classes="tuna")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title><style>"
            "body{font-family:sans-serif} table{border-collapse:collapse} "
            "th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right} th{background:#f4f4f4}"
            f"</style></head><body><h3>{title}</h3>\n{body}\n</body></html>\n")


def write_table(table: pd.DataFrame, stem: str | Path, title: str, md_table: pd.DataFrame | None = None,
                digits: int = 2) -> list[Path]:
    """STEM.csv (numbers), STEM.md (`md_table` if given, e.g. with links) and STEM.html."""
    stem = Path(stem)
    paths = [stem.with_suffix(suffix) for suffix in (".csv", ".md", ".html")]
    with atomic_output(paths[0]) as handle:
        table.to_csv(handle)
    with atomic_output(paths[1]) as handle:
        handle.write(markdown(table if md_table is None else md_table, digits))
    with atomic_output(paths[2]) as handle:
        handle.write(html(table, title, digits))
    return paths
