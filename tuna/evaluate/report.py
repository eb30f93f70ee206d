"""The paper's tables from result files: Table 1 (benchmarks x models, deltas vs the
baseline), Table 4 (average response length per rank position), the cost table
(Table 6 style) and the provenance of every number."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from tuna import provenance
from tuna.config.settings import BENCHMARKS
from tuna.cost import HUMAN_STAGE, cost_path, human_cost
from tuna.errors import TunaError
from tuna.evaluate.report_held_out import HeldOutReport
from tuna.evaluate.significance import Settings
from tuna.records import Ranking, atomic_output, read_json, read_jsonl

# Table 1 column -> (benchmark, keys of the number in results/{model}/{benchmark}.json)
TABLE1 = {
    "superni_0shot": ("superni", ("shots", "0", "rougeL")),
    "superni_2shot": ("superni", ("shots", "2", "rougeL")),
    "superni_0shot_bertscore": ("superni", ("shots", "0", "bertscore", "f1")),
    "superni_2shot_bertscore": ("superni", ("shots", "2", "bertscore", "f1")),
    "lmentry": ("lmentry", ("lmentry_score",)),
    "vicuna_win": ("vicuna", ("win_rate",)),
    "vicuna_lose": ("vicuna", ("lose_rate",)),
    "vicuna_tie": ("vicuna", ("tie_rate",)),
    "vicuna_unparsed": ("vicuna", ("unparsed",)),
}
DELTAS = ("superni_0shot", "superni_2shot", "lmentry")
COUNTS = ("calls", "prompt_tokens", "completion_tokens")
P_DIGITS = 4


def read_result(path: Path) -> dict | None:
    """A JSON result, or None where the benchmark was not run."""
    return read_json(path) if path.exists() else None


def _get(result: dict | None, *keys):
    for key in keys:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


def result_path(results_dir: str | Path, model: str, benchmark: str) -> Path:
    return Path(results_dir) / model / f"{benchmark}.json"


def table1(results_dir: str | Path, models: list[str], baseline: str) -> pd.DataFrame:
    """One row per model: Super-NI ROUGE-L (0/2-shot; BERTScore F1 where scored), LMentry score, Vicuna win/lose/tie
    rates vs the baseline (over parsed verdicts) and the unparsed count; `delta_*`
    columns subtract the baseline's row (benchmarks it has)."""
    rows = []
    for model in models:
        result = {b: read_result(result_path(results_dir, model, b)) for b in BENCHMARKS}
        rows.append({"model": model, **{column: _get(result[benchmark], *keys)
                                        for column, (benchmark, keys) in TABLE1.items()}})
    table = pd.DataFrame(rows).set_index("model")
    table["vicuna_unparsed"] = table["vicuna_unparsed"].astype("Int64")
    if baseline in table.index:
        for column in DELTAS:
            table[f"delta_{column}"] = table[column] - table.loc[baseline, column]
    return table.dropna(axis="columns", how="all")


def table1_links(table: pd.DataFrame, results_dir: str | Path, out_dir: str | Path) -> pd.DataFrame:
    """Table 1 as Markdown cells: each number links to the result file it was read from,
    and a `provenance` column links each of the row's provenance stamps."""
    def link(text: str, path: Path) -> str:
        return f"[{text}]({Path(os.path.relpath(path, out_dir)).as_posix()})"

    cells = table.astype(object).apply(lambda column: column.map(lambda v: format_cell(v, column_digits(column.name))))
    for model in table.index:
        for column in table.columns.intersection(list(TABLE1)):
            if cells.loc[model, column]:
                cells.loc[model, column] = link(cells.loc[model, column],
                                                result_path(results_dir, model, TABLE1[column][0]))
    cells["provenance"] = [
        " ".join(link(b, provenance.stamp_path(path)) for b in BENCHMARKS
                 if (path := result_path(results_dir, model, b)).exists())
        for model in table.index
    ]
    return cells


def length_by_rank(path: str | Path) -> pd.DataFrame:
    """Table 4: mean length (tokens, words) of the responses at each rank position."""
    rows = [{"rank": position + 1, "tokens": c.n_tokens, "words": len(c.text.split())}
            for ranking in read_jsonl(path, Ranking) for position, c in enumerate(ranking.candidates)]
    if not rows:
        raise TunaError(f"{path}: no ranked responses")
    frame = pd.DataFrame(rows).groupby("rank")
    return pd.DataFrame({"mean_tokens": frame["tokens"].mean().round(1), "mean_words": frame["words"].mean().round(1),
                         "responses": frame.size()})


def lengths(datasets: dict[str, str | Path]) -> pd.DataFrame:
    """Table 4 for several ranking data sets (prob_rank, ctx_rank:M, ...), one block each."""
    if not datasets:
        return pd.DataFrame(columns=["data", "rank", "mean_tokens", "mean_words", "responses"]).set_index(
            ["data", "rank"])
    return pd.concat({name: length_by_rank(path) for name, path in datasets.items()}, names=["data"])


def read_cost(path: str | Path) -> dict:
    """A cost file of tuna.cost.write_cost; a clear error naming the file if it is not one."""
    cost = read_result(Path(path))
    if cost is None:
        raise TunaError(f"{path}: cost file not found")
    if not isinstance(_get(cost, "total"), dict) or any(key not in cost["total"] for key in (*COUNTS, "usd")):
        raise TunaError(f"{path}: not a cost file (needs total.calls, total.prompt_tokens, "
                        "total.completion_tokens, total.usd)")
    return cost


def unparsed_counts(quarantine: list[str | Path], vicuna_results: list[str | Path]) -> dict[Path, int]:
    """Cost file -> answers its stage could not use: quarantined ranking-judge answers
    (lines of `judged/N.quarantine.jsonl`) and unparsed Vicuna verdicts (`vicuna.json`)."""
    counts = {}
    for path in quarantine:
        with open(path, encoding="utf-8") as handle:
            counts[cost_path(path)] = sum(1 for line in handle if line.strip())
    for path in vicuna_results:
        result = read_result(Path(path))
        counts[cost_path(path)] = int(_get(result, "unparsed") or 0)
    return counts


def cost_table(costs: list[tuple[str, str | Path]], unparsed: dict[Path, int] | None = None) -> pd.DataFrame:
    """Table 6 style: calls, prompt/completion tokens and USD per stage and model, summed
    over the (stage, cost file) pairs, plus a total row. USD is empty where no price is
    known (local models); `unparsed` counts the answers a stage could not use."""
    unparsed = unparsed or {}
    rows = []
    for stage, path in costs:
        cost = read_cost(path)
        rows.append({"stage": stage, "provider": cost.get("provider"), "model": cost.get("model"), "files": 1,
                     **{key: cost["total"][key] for key in COUNTS}, "usd": cost["total"]["usd"],
                     "unparsed": unparsed.get(Path(path), 0)})
    columns = ["stage", "provider", "model", "files", *COUNTS, "usd", "unparsed"]
    if not rows:
        return pd.DataFrame(columns=columns).set_index(["stage", "provider", "model"])
    frame = pd.DataFrame(rows, columns=columns)
    frame["usd"] = frame["usd"].astype(float)
    table = frame.groupby(["stage", "provider", "model"], sort=False, dropna=False).sum(min_count=1)
    total = table.sum(min_count=1)
    table.loc[("total", "", ""), :] = total
    return table.astype({key: "int64" for key in ("files", *COUNTS, "unparsed")})


def human_labelling(judged: list[str | Path], usd_per_comparison: float, comparisons: int) -> pd.DataFrame:
    """Table 6's comparison: what annotators would cost for the examples the judge ranked
    (`comparisons` pairwise comparisons per example at `usd_per_comparison`)."""
    examples = sum(len(read_jsonl(path, Ranking)) for path in judged)
    calls, dollars = human_cost(examples, usd_per_comparison, comparisons)
    return pd.DataFrame([{"stage": HUMAN_STAGE, "provider": "human", "model": "", "files": len(judged),
                          "calls": calls, "prompt_tokens": 0, "completion_tokens": 0, "usd": dollars,
                          "unparsed": 0}]).set_index(["stage", "provider", "model"])


def sources(files: list[tuple[str, str | Path]]) -> pd.DataFrame:
    """Where every number of the report comes from: per input file (with what it feeds),
    its sha256 and the code, command and time of its provenance stamp."""
    rows = []
    for role, path in files:
        path = Path(path)
        if not path.exists():
            continue
        stamp = read_result(provenance.stamp_path(path)) or {}
        rows.append({"file": str(path), "used_for": role, "sha256": provenance.sha256_file(path),
                     "git_commit": _get(stamp, "code", "git_commit"), "git_dirty": _get(stamp, "code", "git_dirty"),
                     "created": stamp.get("created"), "command": " ".join(stamp.get("command", [])) or None,
                     "provenance": str(provenance.stamp_path(path)) if stamp else None})
    return pd.DataFrame(rows, columns=["file", "used_for", "sha256", "git_commit", "git_dirty", "created", "command",
                                       "provenance"]).set_index("file")


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


def trained_examples(checkpoint: Path) -> int:
    """How many examples `tuna train` trained a checkpoint on (data.kept of its provenance);
    0 for an imported model (the 0 point of a data-amount sweep, as Alpaca in Fig. 3)."""
    stamp = provenance.stamp_path(checkpoint)
    params = _get(read_json(stamp), "params") or {}
    if "source" in params:
        return 0
    kept = _get(read_json(stamp), "data", "kept")
    if not isinstance(kept, int):
        raise TunaError(f"{stamp}: no count of training examples (data.kept); not a checkpoint made by tuna train")
    return kept


@dataclass(frozen=True)
class Uncertainty:
    """What the uncertainty tables need beyond the result files."""

    bootstrap: Settings = Settings()
    human: Path | None = None  # `tuna human-import` scores: Table 2
    human_focus: str = "tuna"  # the model Table 2 tests against every other one
    agreement: Path | None = None  # `tuna human-agreement` output: Appendix G

    def inputs(self) -> list[tuple[str, Path]]:
        return [(role, path) for role, path in (("table2", self.human), ("appendix_g", self.agreement)) if path]


def _all_results(results_dir: Path, models: list[str]) -> dict[str, dict[str, dict | None]]:
    return {m: {b: read_result(result_path(results_dir, m, b)) for b in BENCHMARKS} for m in models}


def with_uncertainty(table: pd.DataFrame, results_dir: Path, models: list[str], baseline: str,
                     uncertainty: Uncertainty) -> pd.DataFrame:
    """Table 1 with each delta's paired bootstrap interval and test (tuna.evaluate.report_significance)."""
    from tuna.evaluate import report_significance

    extra = report_significance.table1_uncertainty(_all_results(results_dir, models), baseline, uncertainty.bootstrap)
    return table.join(extra.reindex(table.index)).dropna(axis="columns", how="all")


def significance_tables(out: Path, results_dir: Path, models: list[str], baseline: str,
                        uncertainty: Uncertainty) -> list[Path]:
    """Table 11 (BERTScore) when the results have it; Table 2 and Appendix G when their files are given."""
    from tuna.evaluate import report_significance as rs

    made = []
    superni = {m: r["superni"] for m, r in _all_results(results_dir, models).items()}
    bert = rs.table11(superni, baseline, uncertainty.bootstrap)
    if not bert.empty:
        made += write_table(bert, out / "table11", "Table 11: Super-NI BERTScore and ROUGE-L")
    if uncertainty.human:
        scores = read_json(uncertainty.human).get("models", {})
        made += write_table(rs.table2(scores, baseline, uncertainty.human_focus), out / "table2",
                            "Table 2: human evaluation (* better than the baseline, † better than every other "
                            f"model, Wilcoxon p < {rs.MARK_ALPHA})")
    if uncertainty.agreement:
        made += write_table(rs.appendix_g(read_json(uncertainty.agreement)), out / "appendix_g",
                            "Appendix G: Spearman correlation of judge and human rankings", digits=4)
    return made


def build(out: Path, results_dir: Path, models: list[str], baseline: str, ranked: list[tuple[str, Path]],
          costs: list[tuple[str, Path]], quarantine: list[Path],
          sweeps: dict[str, dict[str, float]],
          data_sweeps: dict[str, dict[str, Path]], tables: dict[str, list[str]] | None = None,
          human: tuple[float, int] | None = None,
          training: dict[str, Path] | None = None,
          uncertainty: Uncertainty | None = None,
          held_out: HeldOutReport | None = None) -> tuple[list[Path], list[Path]]:
    """Write every table and plot of the report into OUT; return (files made, files read).

    sweeps: label -> {model: lambda}; data_sweeps: label -> {model: its checkpoint}, whose
    provenance stamp says how many examples it was trained on; tables: more tables in
    Table 1's layout (name -> models); human: (USD per comparison, comparisons per
    example) for Table 6's human-labelling row over the judge-ranked sets (`ctx_rank:M`);
    training: model -> its checkpoint, whose metrics.jsonl gives the training curves;
    uncertainty: the bootstrap settings and the human-evaluation files (Table 2, Appendix G);
    held_out: a report_held_out.HeldOutReport (NLL data sets, Table 5's beta sweeps, PRM agreements).
    """
    from tuna.evaluate import plots, report_held_out

    uncertainty = uncertainty or Uncertainty()
    held_out = held_out or HeldOutReport()
    out.mkdir(parents=True, exist_ok=True)
    table = table1(results_dir, models, baseline).join(
        report_held_out.held_out_columns(results_dir, models, held_out.nll_data))
    table = with_uncertainty(table, results_dir, models, baseline, uncertainty)
    linked = table1_links(table, results_dir, out)
    made = write_table(table, out / "table1", "Table 1: evaluation results", md_table=linked)
    for name, subset in (tables or {}).items():
        made += write_table(table.loc[subset], out / name, f"{name}: evaluation results", md_table=linked.loc[subset])
    made += significance_tables(out, results_dir, models, baseline, uncertainty)
    made += held_out.tables(results_dir, out)
    made += write_table(lengths(dict(ranked)), out / "lengths", "Table 4: average response length per rank position")
    results = [result_path(results_dir, m, b) for m in models for b in BENCHMARKS]
    judged = [path for path in results if path.name == "vicuna.json" and path.exists()]
    costs_table = cost_table(costs, unparsed_counts(quarantine, judged))
    if human:
        judge_ranked = [path for data, path in ranked if data.startswith("ctx_rank:")]
        costs_table = pd.concat([costs_table, human_labelling(judge_ranked, *human)])
    made += write_table(costs_table, out / "cost", "Cost per stage and model")
    read = ([("table1", p) for p in results] + [("lengths", p) for _, p in ranked]
            + [("cost", p) for _, p in costs] + [("cost", p) for p in quarantine]
            + [("data_sweep", provenance.stamp_path(c)) for points in data_sweeps.values() for c in points.values()]
            + held_out.sources(results_dir, models)
            + [("training_curves", Path(c) / "metrics.jsonl") for c in (training or {}).values()]
            + uncertainty.inputs())
    made += write_table(sources(read), out / "sources", "Sources of the report's numbers")
    vicuna = {m: r for m in models if m != baseline
              and (r := read_result(result_path(results_dir, m, "vicuna"))) is not None}
    if vicuna:
        plots.plot_win_lose_tie(vicuna, baseline, out / "vicuna_win_lose_tie.png")
        made.append(out / "vicuna_win_lose_tie.png")
    if sweeps:
        plots.plot_lambda_sweep(table, sweeps, out / "lambda_sweep.png")
        made.append(out / "lambda_sweep.png")
    if data_sweeps:
        examples = {label: {model: trained_examples(checkpoint) for model, checkpoint in points.items()}
                    for label, points in data_sweeps.items()}
        plots.plot_data_sweep(table, examples, out / "data_sweep.png")
        made.append(out / "data_sweep.png")
    made += report_held_out.plots(results_dir, models, training or {}, out, list(held_out.prm_files))
    return made, [p for _, p in read if Path(p).exists()]
