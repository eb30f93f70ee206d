"""The report's "what each job cost" table from Snakemake benchmark TSVs, and the spec's list
of them: exactly the heavy jobs upstream of the report (checked against Snakemake's own plan)."""

from __future__ import annotations

import copy
import csv
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from json_files import write_json
from report_files import layout, report_spec, run_report

from tuna.config import load
from tuna.errors import TunaError
from tuna.evaluate.report_jobs import jobs_table, read_benchmark

ROOT = Path(__file__).resolve().parent.parent
# The header Snakemake 9 writes (snakemake.benchmark.BenchmarkRecord.get_header), as in a real file
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def benchmark(path: Path, *runs: tuple[str, str, str]) -> Path:
    """A benchmark TSV with one line per run: (seconds, max_rss MB, cpu seconds)."""
    lines = [f"{s}\t0:00:01\t{rss}\t65.64\t52.66\t53.57\t0.00\t0.00\t0.00\t{cpu}\n" for s, rss, cpu in runs]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(lines))
    return path


def test_jobs_table_has_each_job_and_a_total_per_rule_and_counts_absent_files(tmp_path):
    b = tmp_path / "benchmarks"
    jobs = {"train": {"tuna_p": benchmark(b / "train/tuna_p.tsv", ("3600.50", "20480.00", "7000.00")),
                      "tuna": benchmark(b / "train/tuna.tsv", ("1800.00", "10240.00", "3000.00")),
                      "old": b / "train/old.tsv"},  # run before the rule had benchmark:
            "judge_vicuna": {"tuna": benchmark(b / "judge_vicuna/tuna.tsv", ("0.40", "NA", "NA"))},
            "sample": {"alpaca/0": b / "sample/alpaca/0.tsv"}}
    asked = {"train": {"tuna_p": {"mem_mb": 30000, "runtime_min": 120, "gpus": 0},
                       "tuna": {"mem_mb": 12000, "runtime_min": 60, "gpus": 0}}}
    table = jobs_table(jobs, asked)
    assert list(table.index) == [("train", "tuna_p"), ("train", "tuna"), ("train", "total"),
                                 ("judge_vicuna", "tuna"), ("judge_vicuna", "total"), ("sample", "total"),
                                 ("total", "")]
    assert table.loc[("train", "tuna_p")][["asked_mem_mb", "asked_runtime_s"]].to_list() == [30000, 7200]
    assert table.loc[("train", "total")].to_dict() == {"jobs": 2, "absent": 1, "wall_s": 5400.5,
                                                       "max_rss_mb": 20480.0, "cpu_s": 10000.0,
                                                       "asked_mem_mb": 30000, "asked_runtime_s": 10800}
    short = table.loc[("judge_vicuna", "tuna")]  # too short for Snakemake to sample: NA memory and CPU
    assert short["wall_s"] == 0.4 and short.isna()["max_rss_mb"]
    assert (table.loc[("sample", "total"), "absent"], table.loc[("sample", "total")].isna()["wall_s"]) == (1, True)
    assert table.loc[("total", "")].to_dict() == {"jobs": 3, "absent": 2, "wall_s": 5400.9, "max_rss_mb": 20480.0,
                                                  "cpu_s": 10000.0, "asked_mem_mb": 30000, "asked_runtime_s": 10800}
    assert table.loc[("judge_vicuna", "tuna")].isna()["asked_mem_mb"]  # nothing requested: no number
    repeated = benchmark(b / "repeated.tsv", ("10", "100", "4"), ("20", "300", "6"))
    assert read_benchmark(repeated) == {"wall_s": 15.0, "max_rss_mb": 200.0, "cpu_s": 5.0}


def test_a_file_that_is_not_a_benchmark_names_itself(tmp_path):
    bad = write_json(tmp_path / "b.tsv", {"s": 1})
    with pytest.raises(TunaError, match=r"b.tsv: not a Snakemake benchmark file \(no s, max_rss, cpu_time column\)"):
        read_benchmark(bad)
    (tmp_path / "h.tsv").write_text(HEADER)
    with pytest.raises(TunaError, match="h.tsv: not a Snakemake benchmark file"):
        read_benchmark(tmp_path / "h.tsv")


def test_the_report_writes_the_jobs_table_from_the_spec(tmp_path):
    write_json(Path(layout(tmp_path).result("alpaca", "lmentry")), {"lmentry_score": 20.0})
    tsv = benchmark(Path(layout(tmp_path).benchmark("train/tuna")), ("61.25", "900.5", "58"))
    out = tmp_path / "results" / "report"
    run_report(report_spec(tmp_path, ["alpaca"], jobs={"train": {"tuna": tsv, "tuna_p": tsv.with_name("x.tsv")}}),
                     out)
    rows = [(r["rule"], r["job"], r["jobs"], r["absent"], r["wall_s"]) for r in csv.DictReader(out.joinpath("jobs.csv").open())]
    assert rows == [("train", "tuna", "1", "0", "61.25"), ("train", "total", "1", "1", "61.25"),
                    ("total", "", "1", "1", "61.25")]
    assert "| train | tuna | 1 | 0 | 61.25 | 900.50 | 58.00 |" in out.joinpath("jobs.md").read_text()
    assert str(tsv) in out.joinpath("sources.csv").read_text()


def planned_benchmarks(config: Path, tmp_path: Path) -> set[str]:
    """The benchmark files of the jobs Snakemake plans for the report target (a dry run)."""
    done = subprocess.run(["snakemake", "report", "-n", "--directory", str(tmp_path), "-s", str(ROOT / "Snakefile"),
                           "--configfile", str(config)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return set(re.findall(r"^\s+benchmark: (\S+)$", done.stdout, re.M))


@pytest.mark.slow
@pytest.mark.parametrize("config", ["config.yaml", "paper.yaml"])
def test_the_spec_lists_the_benchmarks_of_exactly_the_jobs_upstream_of_the_report(config, tmp_path):
    path = ROOT / "config" / config
    spec = load(copy.deepcopy(yaml.safe_load(path.read_text()))).report_spec()
    listed = {str(p) for files in spec.jobs.values() for p in files.values()}
    assert listed == planned_benchmarks(path, tmp_path)
    assert not listed & {str(p) for p in spec.inputs()}  # read when present, never a reason to rerun a job
    assert {rule: set(jobs) for rule, jobs in spec.requested.items()} == {rule: set(jobs) for rule, jobs in spec.jobs.items()}
    if config == "paper.yaml":  # what tuna.config.resources asks for the paper's proxy ranking models: one GPU to rank
        assert {job["gpus"] for job in spec.requested["prm_rank"].values()} == {1}
