"""Plots of the report: Vicuna win/lose/tie bars, the lambda (mle_weight) and data-amount
(max_examples) sweeps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tuna.config.layout import superni_set
from tuna.config.settings import SUPERNI_SHOTS
from tuna.records import atomic_output

SWEEP_METRICS = {  # Table 1 column -> axis label
    **{superni_set(k): f"Super-NI {k}-shot ROUGE-L" for k in SUPERNI_SHOTS},
    "lmentry": "LMentry score",
    "vicuna_win": "Vicuna QA win rate (%)",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out: str | Path) -> None:
    with atomic_output(out, "wb") as handle:
        fig.savefig(handle, format=Path(out).suffix.lstrip(".") or "png", dpi=120)


def plot_win_lose_tie(summaries: dict[str, dict], baseline: str, out: str | Path) -> None:
    """Stacked horizontal bars of each model's win/tie/lose rates against the baseline."""
    plt = _pyplot()
    models = list(summaries)
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(models) + 1.2))
    left = [0.0] * len(models)
    for key, label, color in (("win_rate", "win", "#4c9a2a"), ("tie_rate", "tie", "#bbbbbb"),
                              ("lose_rate", "lose", "#c0392b")):
        values = [summaries[m].get(key, 0.0) for m in models]
        ax.barh(models, values, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"% of Vicuna QA questions vs {baseline}")
    ax.invert_yaxis()
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def plot_lambda_sweep(table: pd.DataFrame, sweeps: dict[str, dict[str, float]], out: str | Path) -> None:
    """Each metric against lambda (train.mle_weight), one line per sweep (models sharing init
    and data, differing only in lambda)."""
    _plot_sweeps(table, sweeps, "lambda (train.mle_weight)", out)


def plot_data_sweep(table: pd.DataFrame, sweeps: dict[str, dict[str, int]], out: str | Path) -> None:
    """Each metric against the number of training examples, one line per sweep (models
    sharing init and data, differing only in train.max_examples)."""
    _plot_sweeps(table, sweeps, "training examples", out)


def _plot_sweeps(table: pd.DataFrame, sweeps: dict[str, dict[str, float]], xlabel: str, out: str | Path) -> None:
    """One panel per Table 1 metric: the metric against each model's x, one line per sweep."""
    metrics = [m for m in SWEEP_METRICS if m in table.columns]
    plt = _pyplot()
    fig, axes = plt.subplots(1, max(len(metrics), 1), figsize=(3.6 * max(len(metrics), 1), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=False):
        for label, xs in sweeps.items():
            points = sorted((x, table.loc[model, metric]) for model, x in xs.items()
                            if model in table.index and pd.notna(table.loc[model, metric]))
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(SWEEP_METRICS[metric])
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)
