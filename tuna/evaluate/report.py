"""The paper's tables from result files: Table 1 (benchmarks x models, deltas vs the
baseline), Table 4 (average response length per rank position), win/lose/tie bars."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tuna.errors import TunaError
from tuna.records import Ranking, atomic_output, read_jsonl

BENCHMARKS = ("superni", "lmentry", "vicuna")


def read_result(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TunaError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc


def _get(result: dict | None, *keys):
    for key in keys:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


def table1(results_dir: str | Path, models: list[str], baseline: str) -> pd.DataFrame:
    """One row per model: Super-NI ROUGE-L (0/2-shot), LMentry score, Vicuna win/lose/tie
    vs the baseline; `delta_*` columns subtract the baseline's row (benchmarks it has)."""
    rows = []
    for model in models:
        result = {b: read_result(Path(results_dir) / model / f"{b}.json") for b in BENCHMARKS}
        rows.append({
            "model": model,
            "superni_0shot": _get(result["superni"], "shots", "0", "rougeL"),
            "superni_2shot": _get(result["superni"], "shots", "2", "rougeL"),
            "lmentry": _get(result["lmentry"], "lmentry_score"),
            "vicuna_win": _get(result["vicuna"], "win_rate"),
            "vicuna_lose": _get(result["vicuna"], "lose_rate"),
            "vicuna_tie": _get(result["vicuna"], "tie_rate"),
        })
    table = pd.DataFrame(rows).set_index("model")
    if baseline in table.index:
        for column in ("superni_0shot", "superni_2shot", "lmentry"):
            table[f"delta_{column}"] = table[column] - table.loc[baseline, column]
    return table.dropna(axis="columns", how="all")


def length_by_rank(path: str | Path) -> pd.DataFrame:
    """Table 4: mean length (tokens, words) of the responses at each rank position."""
    rows = [{"rank": position + 1, "tokens": c.n_tokens, "words": len(c.text.split())}
            for ranking in read_jsonl(path, Ranking) for position, c in enumerate(ranking.candidates)]
    if not rows:
        raise TunaError(f"{path}: no ranked responses")
    frame = pd.DataFrame(rows).groupby("rank")
    return pd.DataFrame({"mean_tokens": frame["tokens"].mean().round(1), "mean_words": frame["words"].mean().round(1),
                         "responses": frame.size()})


def markdown(table: pd.DataFrame, digits: int = 2) -> str:
    """A GitHub-flavoured Markdown table (empty cells for missing values)."""
    frame = table.reset_index()

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_table(table: pd.DataFrame, csv_path: str | Path, md_path: str | Path) -> None:
    with atomic_output(csv_path) as handle:
        table.to_csv(handle)
    with atomic_output(md_path) as handle:
        handle.write(markdown(table))


def plot_win_lose_tie(summaries: dict[str, dict], baseline: str, out: str | Path) -> None:
    """Stacked horizontal bars of each model's win/tie/lose rates against the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(summaries)
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(models) + 1.2))
    left = [0.0] * len(models)
    for key, label, color in (("win_rate", "win", "#4c9a2a"), ("tie_rate", "tie", "#bbbbbb"),
                              ("lose_rate", "lose", "#c0392b")):
        values = [summaries[m].get(key, 0.0) for m in models]
        ax.barh(models, values, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, values)]
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"% of Vicuna QA questions vs {baseline}")
    ax.invert_yaxis()
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    with atomic_output(out, "wb") as handle:
        fig.savefig(handle, format=Path(out).suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
