"""The report: every table and plot of the evaluated models, from one report spec
(tuna.config.report_spec): Table 1 (benchmarks x models, deltas vs the baseline, with
their uncertainty and the held-out columns), Table 4 (average response length per rank
position), the cost table (Table 6 style), the extra tables, Tables 5, 11, 2 and
Appendix G where their data is given, the plots, and the provenance of every number."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from tuna import provenance
from tuna.config.layout import superni_set
from tuna.config.report_spec import ReportSpec
from tuna.config.settings import BENCHMARKS, SUPERNI_SHOTS
from tuna.errors import TunaError
from tuna.evaluate import plots, report_held_out, report_paper, report_significance
from tuna.evaluate.report_cost import cost_report
from tuna.evaluate.report_jobs import jobs_table
from tuna.evaluate.report_tables import column_digits, format_cell, write_table
from tuna.evaluate.significance import Settings
from tuna.records import Ranking, read_json, read_jsonl, write_json

# Table 1 column -> (benchmark, keys of the number in the benchmark's result)
TABLE1 = {
    **{superni_set(k): ("superni", ("shots", str(k), "rougeL")) for k in SUPERNI_SHOTS},
    **{f"{superni_set(k)}_bertscore": ("superni", ("shots", str(k), "bertscore", "f1")) for k in SUPERNI_SHOTS},
    "lmentry": ("lmentry", ("lmentry_score",)),
    "vicuna_win": ("vicuna", ("win_rate",)),
    "vicuna_lose": ("vicuna", ("lose_rate",)),
    "vicuna_tie": ("vicuna", ("tie_rate",)),
    "vicuna_unparsed": ("vicuna", ("unparsed",)),
}
DELTAS = (*(superni_set(k) for k in SUPERNI_SHOTS), "lmentry")


def read_result(path: str | Path | None) -> dict | None:
    """A JSON result, or None where the benchmark was not run."""
    return read_json(path) if path is not None and Path(path).exists() else None


def _get(result: dict | None, *keys):
    for key in keys:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


def all_results(spec: ReportSpec) -> dict[str, dict[str, dict | None]]:
    """model -> benchmark -> its result (None where not run)."""
    return {m: {b: read_result(spec.result(m, b)) for b in BENCHMARKS} for m in spec.models}


def table1(spec: ReportSpec) -> pd.DataFrame:
    """One row per model: Super-NI ROUGE-L (0/2-shot; BERTScore F1 where scored), LMentry score, Vicuna win/lose/tie
    rates vs the baseline (over parsed verdicts) and the unparsed count; `delta_*`
    columns subtract the baseline's row (benchmarks it has)."""
    results = all_results(spec)
    rows = [{"model": model, **{column: _get(results[model][benchmark], *keys)
                                for column, (benchmark, keys) in TABLE1.items()}} for model in spec.models]
    table = pd.DataFrame(rows).set_index("model")
    table["vicuna_unparsed"] = table["vicuna_unparsed"].astype("Int64")
    if spec.baseline in table.index:
        for column in DELTAS:
            table[f"delta_{column}"] = table[column] - table.loc[spec.baseline, column]
    return table.dropna(axis="columns", how="all")


def table1_links(table: pd.DataFrame, spec: ReportSpec, out_dir: str | Path) -> pd.DataFrame:
    """Table 1 as Markdown cells: each number links to the result file it was read from,
    and a `provenance` column links each of the row's provenance stamps."""
    def link(text: str, path: Path) -> str:
        return f"[{text}]({Path(os.path.relpath(path, out_dir)).as_posix()})"

    cells = table.astype(object).apply(lambda column: column.map(lambda v: format_cell(v, column_digits(column.name))))
    for model in table.index:
        for column in table.columns.intersection(list(TABLE1)):
            if cells.loc[model, column]:
                cells.loc[model, column] = link(cells.loc[model, column], spec.result(model, TABLE1[column][0]))
    cells["provenance"] = [
        " ".join(link(b, provenance.stamp_path(path)) for b in BENCHMARKS
                 if (path := spec.result(model, b)) and Path(path).exists())
        for model in table.index
    ]
    return cells


def as_rows(table: pd.DataFrame, spec: ReportSpec, rows: list[str]) -> pd.DataFrame:
    """The rows of a table of the evaluated models, an alias's row named after the alias."""
    return table.loc[[spec.model_of(row) for row in rows]].set_axis(pd.Index(rows, name=table.index.name))
def with_objectives(table: pd.DataFrame, objectives: dict[str, str]) -> pd.DataFrame:
    """Table 1's rows of the models in `objectives`, the first column naming each one's training objective."""
    rows = table.loc[list(objectives)].copy()
    rows.insert(0, "objective", [objectives[m] for m in rows.index])
    return rows


def bootstrap(spec: ReportSpec) -> Settings:
    return Settings(resamples=spec.bootstrap.resamples, seed=spec.bootstrap.seed)


def with_uncertainty(table: pd.DataFrame, spec: ReportSpec) -> pd.DataFrame:
    """Table 1 with each delta's paired bootstrap interval and test (tuna.evaluate.report_significance)."""
    extra = report_significance.table1_uncertainty(all_results(spec), spec.baseline, bootstrap(spec))
    return table.join(extra.reindex(table.index)).dropna(axis="columns", how="all")


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


def read_files(spec: ReportSpec) -> list[tuple[str, Path]]:
    """(role, file) of every file the report reads, in the order the sources table lists them
    (a file read for several roles under the first)."""
    human, labelling = spec.human, spec.human_labelling
    files = ([("table1", Path(path)) for m in spec.models for path in spec.results.get(m, {}).values()]
             + [("lengths", Path(p)) for p in spec.rankings.values()]
             + [("cost", Path(p)) for paths in spec.costs.values() for p in paths]
             + [("cost", Path(p)) for p in spec.quarantine + (labelling.judged if labelling else [])]
             + [("jobs", Path(p)) for files in spec.jobs.values() for p in files.values()]
             + [("data_sweep", provenance.stamp_path(c)) for points in spec.data_sweeps.values()
                for c in points.values()]
             + report_held_out.sources(spec)
             + [("training_curves", Path(c) / "metrics.jsonl") for c in spec.training_curves.values()]
             + [(role, Path(path)) for role, path in (("table2", human.scores), ("appendix_g", human.ranking_agreement))
                if path])
    first_role: dict[Path, str] = {}
    for role, path in files:
        first_role.setdefault(path, role)
    return [(role, path) for path, role in first_role.items()]


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


def significance_tables(spec: ReportSpec, out: Path) -> list[Path]:
    """Table 11 (BERTScore) when the results have it; Table 2 and Appendix G when their files are given."""
    rs = report_significance
    made = []
    superni = {m: r["superni"] for m, r in all_results(spec).items()}
    bert = rs.table11(superni, spec.baseline, bootstrap(spec))
    if not bert.empty:
        made += write_table(bert, out / "table11", "Table 11: Super-NI BERTScore and ROUGE-L")
    if spec.human.scores:
        scores = read_json(spec.human.scores).get("models", {})
        made += write_table(rs.table2(scores, spec.baseline, spec.human.focus), out / "table2",
                            "Table 2: human evaluation (* better than the baseline, † better than every other "
                            f"model, Wilcoxon p < {rs.MARK_ALPHA})")
    if spec.human.ranking_agreement:
        made += write_table(rs.appendix_g(read_json(spec.human.ranking_agreement)), out / "appendix_g",
                            "Appendix G: Spearman correlation of judge and human rankings", digits=4)
    return made


def sweep_plots(spec: ReportSpec, table: pd.DataFrame, out: Path) -> list[Path]:
    """vicuna_win_lose_tie.png, lambda_sweep.png and data_sweep.png, where the spec has what they draw."""
    made = []
    vicuna = {m: r for m in spec.models if m != spec.baseline
              and (r := read_result(spec.result(m, "vicuna"))) is not None}
    if vicuna:
        plots.plot_win_lose_tie(vicuna, spec.baseline, out / "vicuna_win_lose_tie.png")
        made.append(out / "vicuna_win_lose_tie.png")
    if spec.lambda_sweeps:
        plots.plot_lambda_sweep(table, spec.lambda_sweeps, out / "lambda_sweep.png")
        made.append(out / "lambda_sweep.png")
    if spec.data_sweeps:
        examples = {label: {model: trained_examples(checkpoint) for model, checkpoint in points.items()}
                    for label, points in spec.data_sweeps.items()}
        plots.plot_data_sweep(table, examples, out / "data_sweep.png")
        made.append(out / "data_sweep.png")
    return made


def build(spec: ReportSpec, out: Path) -> list[Path]:
    """Write every table and plot of the report into OUT, the spec itself (spec.json) and a
    provenance stamp naming every file read; return the files made."""
    out.mkdir(parents=True, exist_ok=True)
    table = table1(spec).join(report_held_out.held_out_columns(spec))
    table = with_uncertainty(table, spec)
    linked = table1_links(table, spec, out)
    made = []
    for name, rows in {"table1": spec.table1_rows(), **spec.tables}.items():
        shown, md = as_rows(table, spec, rows), as_rows(linked, spec, rows)
        if spec.paper_numbers:
            shown, md = report_paper.beside(shown, md, name, spec.baseline)
        made += write_table(shown, out / name, "Table 1: evaluation results" if name == "table1"
                            else f"{name}: evaluation results", md_table=md)
    if spec.objectives:
        made += write_table(with_objectives(table, spec.objectives), out / "objectives",
                            "Objectives: evaluation results by training objective",
                            md_table=with_objectives(linked, spec.objectives))
    made += significance_tables(spec, out)
    made += report_held_out.tables(spec, out)
    made += write_table(lengths(spec.rankings), out / "lengths", "Table 4: average response length per rank position")
    made += write_table(cost_report(spec), out / "cost", "Cost per stage and model")
    if spec.jobs:
        made += write_table(jobs_table(spec.jobs, spec.requested), out / "jobs", "What each job cost (Snakemake benchmarks)")
    read = read_files(spec)
    made += write_table(sources(read), out / "sources", "Sources of the report's numbers")
    made += sweep_plots(spec, table, out)
    made += report_held_out.plots(spec, out)
    write_json(out / "spec.json", spec.model_dump(mode="json"))
    provenance.stamp([out], inputs=[path for _, path in read], params=spec.model_dump(mode="json"))
    return [*made, out / "spec.json"]
