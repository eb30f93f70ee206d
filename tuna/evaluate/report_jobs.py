"""The report's "what each job cost" table: wall time, peak memory and CPU time of each
heavy job, from the TSV Snakemake's `benchmark:` writes for it, beside the memory and time
the job asked the scheduler for (tuna.config.resources), with a total per rule: how to check the
estimates against what jobs used."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tuna.errors import TunaError

# Snakemake's benchmark columns (seconds, MB, seconds) -> the table's
MEASURES = {"s": "wall_s", "max_rss": "max_rss_mb", "cpu_time": "cpu_s"}
COLUMNS = ["rule", "job", "jobs", "absent", *MEASURES.values(), "asked_mem_mb", "asked_runtime_s"]


def read_benchmark(path: str | Path) -> dict[str, float]:
    """A job's wall seconds, peak resident memory (MB) and CPU seconds from its benchmark TSV
    (the mean over the runs of a repeated benchmark; NaN where Snakemake wrote NA, a job too
    short to sample); a one-line error naming the file if it is not one."""
    try:
        runs = pd.read_csv(path, sep="\t", na_values=["NA", "-"])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TunaError(f"{path}: not a Snakemake benchmark file: {exc}") from None
    if missing := [column for column in MEASURES if column not in runs]:
        raise TunaError(f"{path}: not a Snakemake benchmark file (no {', '.join(missing)} column)")
    if runs.empty:
        raise TunaError(f"{path}: not a Snakemake benchmark file (no run)")
    return {name: float(pd.to_numeric(runs[column], errors="raise").mean()) for column, name in MEASURES.items()}


def jobs_table(jobs: dict[str, dict[str, str | Path]], requested: dict[str, dict[str, dict]] | None = None,
               ) -> pd.DataFrame:
    """One row per job whose benchmark file exists, then per rule a `total` row (wall and CPU
    seconds summed, the largest peak memory, jobs measured and jobs `absent`: planned without a
    file, as a job run before its rule had `benchmark:`), and the grand total. `requested`
    (rule -> job -> `mem_mb`, `runtime_min`) fills the asked columns."""
    rows, totals = [], []
    for rule, files in jobs.items():
        measured = [{"rule": rule, "job": job, "jobs": 1, "absent": 0, **read_benchmark(path),
                     **_asked((requested or {}).get(rule, {}).get(job))}
                    for job, path in files.items() if Path(path).exists()]
        frame = pd.DataFrame(measured, columns=COLUMNS)
        total = {"rule": rule, "job": "total", "jobs": len(measured), "absent": len(files) - len(measured),
                 **_summed(frame)}
        rows += [*measured, total]
        totals.append(total)
    rows.append({"rule": "total", "job": "", "jobs": sum(t["jobs"] for t in totals),
                 "absent": sum(t["absent"] for t in totals), **_summed(pd.DataFrame(totals, columns=COLUMNS))})
    return pd.DataFrame(rows, columns=COLUMNS).astype({"jobs": "int64", "absent": "int64"}).set_index(["rule", "job"])


def _asked(resources: dict | None) -> dict[str, float]:
    if resources is None:
        return {"asked_mem_mb": float("nan"), "asked_runtime_s": float("nan")}
    return {"asked_mem_mb": resources["mem_mb"], "asked_runtime_s": 60 * resources["runtime_min"]}


def _summed(frame: pd.DataFrame) -> dict[str, float]:
    return {"wall_s": frame["wall_s"].sum(min_count=1), "max_rss_mb": frame["max_rss_mb"].max(),
            "cpu_s": frame["cpu_s"].sum(min_count=1), "asked_mem_mb": frame["asked_mem_mb"].max(),
            "asked_runtime_s": frame["asked_runtime_s"].sum(min_count=1)}
