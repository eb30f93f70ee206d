"""The report's view of what training did: held-out agreement and NLL columns for Table 1,
Table 5 (Eq. 3's beta by NLL), the proxy ranking models' agreement with their judge, the
agreement plot, and the training curves of every trained model.

Result files: `results/{model}/agreement_{ranking}.json` (tuna eval-agreement; ranking
e.g. prob_rank, ctx_rank-tuna_p), `results/{model}/nll.json` and `nll_{data}.json` (tuna
eval-nll on the held-out split and on an NLL data set such as LIMA), a PRM's agreement
file (tuna eval-agreement on the PRM); curves from `checkpoints/{model}/metrics.jsonl`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class HeldOutReport:
    """What the held-out part of the report needs beyond the results directory."""

    nll_data: tuple[str, ...] = ()  # NLL data sets (evaluation.held_out.nll_data), Table 5's choice first
    beta_sweeps: dict[str, dict[str, float]] = field(default_factory=dict)  # Table 5: label -> {model: beta}
    prm_files: tuple[Path, ...] = ()  # proxy ranking models' agreement results

    def sources(self, results_dir: str | Path, models: list[str]) -> list[tuple[str, Path]]:
        """(role, file) of every held-out result the report reads, for the sources table."""
        swept = [m for points in self.beta_sweeps.values() for m in points if m not in models]
        return held_out_sources(results_dir, [*models, *swept], self.nll_data) + [
            ("prm_agreement", Path(path)) for path in self.prm_files]

    def tables(self, results_dir: str | Path, out: Path) -> list[Path]:
        """table5.* (with a beta sweep that has NLLs) and prm_agreement.* (with PRM results)."""
        from tuna.evaluate.report import write_table

        made = []
        betas = table5(results_dir, self.beta_sweeps, list(self.nll_data))
        if not betas.empty:
            made += write_table(betas, out / "table5", "Table 5: Eq. 3's beta by NLL (* lowest)", digits=4)
        if self.prm_files:
            made += write_table(prm_agreement(list(self.prm_files)), out / "prm_agreement",
                                "Proxy ranking models: held-out agreement with the judge", digits=4)
        return made


def nll_file(results_dir: str | Path, model: str, data: str = "") -> Path:
    """`results/{model}/nll.json` (held-out split) or `nll_{data}.json` (an NLL data set)."""
    return Path(results_dir) / model / f"nll{'_' + data if data else ''}.json"


def held_out_columns(results_dir: str | Path, models: list[str], nll_data: list[str] = ()) -> pd.DataFrame:
    """One row per model: `agree_{ranking}` (held-out pair accuracy), `tau_{ranking}` (Kendall
    tau) for each ranking it was evaluated on, `nll` (held-out NLL per token) and `nll_{data}`
    for each NLL data set."""
    rows = {}
    for model in models:
        row = {}
        for ranking, path in agreement_files(results_dir, model).items():
            result = read_json(path)
            row[f"agree_{ranking}"], row[f"tau_{ranking}"] = result["pair_accuracy"], result["kendall_tau"]
        for data in ("", *nll_data):
            if (path := nll_file(results_dir, model, data)).exists():
                row["nll" + (f"_{data}" if data else "")] = read_json(path)["nll"]
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def held_out_sources(results_dir: str | Path, models: list[str], nll_data: list[str] = ()) -> list[tuple[str, Path]]:
    """(role, file) of every held-out agreement and NLL result of these models."""
    files = []
    for model in models:
        files += [("agreement", path) for path in agreement_files(results_dir, model).values()]
        files += [("nll", path) for data in ("", *nll_data) if (path := nll_file(results_dir, model, data)).exists()]
    return files


def table5(results_dir: str | Path, sweeps: dict[str, dict[str, float]], nll_data: list[str] = ()) -> pd.DataFrame:
    """Table 5 (Appendix A picks Eq. 3's beta by NLL): per sweep and beta, the model, its NLL
    per token and perplexity on the first NLL data set every model of the sweep has (else
    the held-out split: `nll_data` names which), its held-out pair accuracies, and `best`
    (`*`) on the lowest NLL of the sweep. Sweeps without a common NLL are left out."""
    rows = []
    for label, points in sweeps.items():
        common = [data for data in (*nll_data, "") if all(nll_file(results_dir, m, data).exists() for m in points)]
        if not common:
            continue
        for model, beta in points.items():
            nll = read_json(nll_file(results_dir, model, common[0]))
            rows.append({"sweep": label, "beta": beta, "model": model, "nll_data": common[0] or "held_out",
                         "nll": nll["nll"], "perplexity": nll["perplexity"],
                         **{f"agree_{ranking}": read_json(path)["pair_accuracy"]
                            for ranking, path in agreement_files(results_dir, model).items()}})
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).sort_values(["sweep", "beta"], kind="stable")
    table["best"] = (table["nll"] == table.groupby("sweep")["nll"].transform("min")).map({True: "*", False: ""})
    return table.set_index(["sweep", "beta"])


def prm_agreement(files: list[Path]) -> pd.DataFrame:
    """Each proxy ranking model's held-out agreement with the judge ranks it learned from."""
    keys = ("pair_accuracy", "pair_accuracy_se", "kendall_tau", "spearman", "mean_margin", "examples")
    rows = [{"prm": (result := read_json(path))["model"], "ranking": result["ranking"], **{k: result[k] for k in keys}}
            for path in files]
    return pd.DataFrame(rows, columns=["prm", "ranking", *keys]).set_index(["prm", "ranking"])


def agreement_results(results_dir: str | Path, models: list[str], prm_files: list[Path] = ()) -> pd.DataFrame:
    """Long table (model, ranking) -> pair_accuracy, pair_accuracy_se, examples, for the plot
    (a proxy ranking model appears as `{prm} (PRM)`)."""
    keys = ("pair_accuracy", "pair_accuracy_se", "examples")
    rows = [{"model": model, "ranking": ranking, **{k: read_json(path)[k] for k in keys}}
            for model in models for ranking, path in agreement_files(results_dir, model).items()]
    rows += [{"model": f"{(result := read_json(path))['model']} (PRM)", "ranking": result["ranking"],
              **{k: result[k] for k in keys}} for path in prm_files]
    return pd.DataFrame(rows, columns=["model", "ranking", *keys])


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
    for ax, (key, label) in zip(axes[0], CURVES.items(), strict=True):
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


def plots(results_dir: str | Path, models: list[str], training: dict[str, Path], out: Path,
          prm_files: list[Path] = ()) -> list[Path]:
    """agreement.png (when agreement results exist) and training_curves.png (when checkpoints are given)."""
    made = []
    results = agreement_results(results_dir, models, prm_files)
    if len(results):
        plot_agreement(results, out / "agreement.png")
        made.append(out / "agreement.png")
    if training:
        plot_training_curves(training_curves(training), out / "training_curves.png")
        made.append(out / "training_curves.png")
    return made
