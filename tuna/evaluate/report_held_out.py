"""The report's view of what training did: held-out agreement and NLL columns for Table 1,
Table 5 (Eq. 3's beta by NLL), the proxy ranking models' agreement with their judge, the
agreement plot, and the training curves of every trained model.

Every file comes from the report spec: each model's held-out agreement with each ranking
data set (tuna eval-agreement), its NLL on the held-out split and on each NLL data set
such as LIMA (tuna eval-nll), each PRM's agreement with its judge, and the checkpoints
whose `metrics.jsonl` hold the training curves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tuna.config.layout import set_token
from tuna.config.report_spec import HELD_OUT, ReportSpec
from tuna.errors import TunaError
from tuna.evaluate.report_tables import write_table
from tuna.records import read_json

CURVES = {"loss": "loss", "rank": "L_rank", "pair_accuracy": "in-batch pair accuracy", "grad_norm": "gradient norm"}


def agreement_files(spec: ReportSpec, model: str) -> dict[str, Path]:
    """Ranking data set's file-name token (`ctx_rank-M`) -> the model's held-out agreement with it, where it exists."""
    return {set_token(ranking): path for ranking, path in spec.agreement.get(model, {}).items() if Path(path).exists()}


def nll_files(spec: ReportSpec, model: str) -> dict[str, Path]:
    """NLL data set -> the model's NLL on it, where it exists."""
    return {data: path for data, path in spec.nll.get(model, {}).items() if Path(path).exists()}


def tables(spec: ReportSpec, out: Path) -> list[Path]:
    """table5.* (with a beta sweep that has NLLs) and prm_agreement.* (with PRM results)."""
    made = []
    betas = table5(spec)
    if not betas.empty:
        made += write_table(betas, out / "table5", "Table 5: Eq. 3's beta by NLL (* lowest)", digits=4)
    if spec.prm_agreement:
        made += write_table(prm_agreement(spec.prm_agreement), out / "prm_agreement",
                            "Proxy ranking models: held-out agreement with the judge", digits=4)
    return made


def held_out_columns(spec: ReportSpec) -> pd.DataFrame:
    """One row per model: `agree_{ranking}` (held-out pair accuracy), `tau_{ranking}` (Kendall
    tau) for each ranking it was evaluated on, `nll` (held-out NLL per token) and `nll_{data}`
    for each NLL data set."""
    rows = {}
    for model in spec.models:
        row = {}
        for ranking, path in agreement_files(spec, model).items():
            result = read_json(path)
            row[f"agree_{ranking}"], row[f"tau_{ranking}"] = result["pair_accuracy"], result["kendall_tau"]
        for data, path in nll_files(spec, model).items():
            row["nll" if data == HELD_OUT else f"nll_{data}"] = read_json(path)["nll"]
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def sources(spec: ReportSpec) -> list[tuple[str, Path]]:
    """(role, file) of every held-out result the report reads, for the sources table."""
    files = []
    for model in dict.fromkeys([*spec.agreement, *spec.nll]):
        files += [("agreement", path) for path in agreement_files(spec, model).values()]
        files += [("nll", path) for path in nll_files(spec, model).values()]
    return files + [("prm_agreement", Path(path)) for path in spec.prm_agreement]


def table5(spec: ReportSpec) -> pd.DataFrame:
    """Table 5 (Appendix A picks Eq. 3's beta by NLL): per sweep and beta, the model, its NLL
    per token and perplexity on the first NLL data set every model of the sweep has (else
    the held-out split: `nll_data` names which), its held-out pair accuracies, and `best`
    (`*`) on the lowest NLL of the sweep. Sweeps without a common NLL are left out."""
    rows = []
    for label, points in spec.beta_sweeps.items():
        common = [data for data in spec.nll_order() if all(data in nll_files(spec, m) for m in points)]
        if not common:
            continue
        for model, beta in points.items():
            nll = read_json(nll_files(spec, model)[common[0]])
            rows.append({"sweep": label, "beta": beta, "model": model, "nll_data": common[0],
                         "nll": nll["nll"], "perplexity": nll["perplexity"],
                         **{f"agree_{ranking}": read_json(path)["pair_accuracy"]
                            for ranking, path in agreement_files(spec, model).items()}})
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


def agreement_results(spec: ReportSpec) -> pd.DataFrame:
    """Long table (model, ranking) -> pair_accuracy, pair_accuracy_se, examples, for the plot
    (a proxy ranking model appears as `{prm} (PRM)`)."""
    keys = ("pair_accuracy", "pair_accuracy_se", "examples")
    rows = [{"model": model, "ranking": ranking, **{k: read_json(path)[k] for k in keys}}
            for model in spec.models for ranking, path in agreement_files(spec, model).items()]
    rows += [{"model": f"{(result := read_json(path))['model']} (PRM)", "ranking": result["ranking"],
              **{k: result[k] for k in keys}} for path in spec.prm_agreement]
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


def plots(spec: ReportSpec, out: Path) -> list[Path]:
    """agreement.png (when agreement results exist) and training_curves.png (when checkpoints are given)."""
    made = []
    results = agreement_results(spec)
    if len(results):
        plot_agreement(results, out / "agreement.png")
        made.append(out / "agreement.png")
    if spec.training_curves:
        plot_training_curves(training_curves(spec.training_curves), out / "training_curves.png")
        made.append(out / "training_curves.png")
    return made
