"""The report's view of what training did: held-out agreement and NLL columns for Table 1,
the agreement plot, and the training curves of every trained model.

Result files: `results/{model}/agreement_{ranking}.json` (tuna eval-agreement; ranking
e.g. prob_rank, ctx_rank_tuna_p) and `results/{model}/nll.json` (tuna eval-nll);
curves from `checkpoints/{model}/metrics.jsonl` (tuna train).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tuna.errors import TunaError
from tuna.records import read_json

AGREEMENT_PREFIX = "agreement_"
CURVES = {"loss": "loss", "rank": "L_rank", "pair_accuracy": "in-batch pair accuracy", "grad_norm": "gradient norm"}


def agreement_files(results_dir: str | Path, model: str) -> dict[str, Path]:
    """ranking -> the agreement result of `model` on it."""
    files = sorted((Path(results_dir) / model).glob(f"{AGREEMENT_PREFIX}*.json"))
    return {path.stem.removeprefix(AGREEMENT_PREFIX): path for path in files
            if not path.name.endswith(".provenance.json")}


def heldout_columns(results_dir: str | Path, models: list[str]) -> pd.DataFrame:
    """One row per model: `agree_{ranking}` (held-out pair accuracy), `tau_{ranking}` (Kendall
    tau) for each ranking it was evaluated on, and `nll` (held-out NLL per token)."""
    rows = {}
    for model in models:
        row = {}
        for ranking, path in agreement_files(results_dir, model).items():
            result = read_json(path)
            row[f"agree_{ranking}"], row[f"tau_{ranking}"] = result["pair_accuracy"], result["kendall_tau"]
        nll = Path(results_dir) / model / "nll.json"
        if nll.exists():
            row["nll"] = read_json(nll)["nll"]
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def heldout_sources(results_dir: str | Path, models: list[str]) -> list[tuple[str, Path]]:
    """(role, file) of every held-out result the columns read, for the sources table."""
    files = []
    for model in models:
        files += [("agreement", path) for path in agreement_files(results_dir, model).values()]
        if (nll := Path(results_dir) / model / "nll.json").exists():
            files.append(("nll", nll))
    return files


def agreement_results(results_dir: str | Path, models: list[str]) -> pd.DataFrame:
    """Long table (model, ranking) -> pair_accuracy, pair_accuracy_se, examples, for the plot."""
    rows = [{"model": model, "ranking": ranking, **{k: read_json(path)[k] for k in
                                                     ("pair_accuracy", "pair_accuracy_se", "examples")}}
            for model in models for ranking, path in agreement_files(results_dir, model).items()]
    return pd.DataFrame(rows, columns=["model", "ranking", "pair_accuracy", "pair_accuracy_se", "examples"])


def training_curves(checkpoints: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """model -> its per-step metrics (metrics.jsonl written by tuna train)."""
    curves = {}
    for model, checkpoint in checkpoints.items():
        path = Path(checkpoint) / "metrics.jsonl"
        try:
            curves[model] = pd.DataFrame([json.loads(line) for line in path.read_text().splitlines() if line.strip()])
        except (OSError, json.JSONDecodeError) as exc:
            raise TunaError(f"{path}: cannot read the training metrics ({exc})") from exc
    return curves


def plot_agreement(results: pd.DataFrame, out: str | Path) -> None:
    """Held-out pair accuracy per model, one bar group per ranking, standard errors, chance at 0.5."""
    from tuna.evaluate.plots import _pyplot, _save

    plt = _pyplot()
    table = results.pivot(index="model", columns="ranking", values="pair_accuracy")
    errors = results.pivot(index="model", columns="ranking", values="pair_accuracy_se").reindex_like(table)
    fig, ax = plt.subplots(figsize=(1.2 * len(table) * max(len(table.columns), 1) + 2.5, 3.4))
    table.plot.bar(ax=ax, yerr=errors.fillna(0), capsize=3, rot=0)
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_ylim(0, 1)
    ax.set_ylabel("held-out pair accuracy")
    ax.legend(fontsize="small", title="ranking")
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def plot_training_curves(curves: dict[str, pd.DataFrame], out: str | Path) -> None:
    """Loss, L_rank, in-batch pair accuracy and gradient norm against the step, one line per model."""
    from matplotlib.ticker import MaxNLocator

    from tuna.evaluate.plots import _pyplot, _save

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(CURVES), figsize=(3.4 * len(CURVES), 3.0), squeeze=False)
    for ax, (key, label) in zip(axes[0], CURVES.items()):
        for model, frame in curves.items():
            if key in frame and frame[key].notna().any():
                ax.plot(frame["step"], frame[key], marker="o", markersize=3, label=model)
        ax.set_xlabel("optimizer step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def plots(results_dir: str | Path, models: list[str], training: dict[str, Path], out: Path) -> list[Path]:
    """agreement.png (when agreement results exist) and training_curves.png (when checkpoints are given)."""
    made = []
    results = agreement_results(results_dir, models)
    if len(results):
        plot_agreement(results, out / "agreement.png")
        made.append(out / "agreement.png")
    if training:
        plot_training_curves(training_curves(training), out / "training_curves.png")
        made.append(out / "training_curves.png")
    return made
