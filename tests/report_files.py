"""Report specs over result files written by a test (shared by the report tests).

Files are written where the workflow's Layout puts them, and the spec names them as
`Plan.report_spec()` would, so the report reads exactly what a test wrote.
"""

from __future__ import annotations

from pathlib import Path

from tuna_cli import tuna

from tuna.config.layout import Layout
from tuna.config.report_spec import HELD_OUT, ReportSpec
from tuna.config.settings import BENCHMARKS


def layout(root: Path) -> Layout:
    return Layout(str(root))


def report_spec(root: Path, models: list[str], baseline: str | None = None, agreement: tuple[str, ...] = (),
                nll: tuple[str, ...] = (), **fields) -> ReportSpec:
    """A spec of `models` whose benchmark results are the files written under ROOT/results
    (as Layout names them), each model's held-out agreement with the ranking data sets
    `agreement` and its NLL on `nll` (`held_out`: the split), and any other spec field."""
    L = layout(root)
    results = {m: {b: L.result(m, b) for b in BENCHMARKS if Path(L.result(m, b)).exists()} for m in models}
    agreements = {m: {r: L.agreement(m, r) for r in agreement} for m in models} if agreement else {}
    nlls = {m: {d: L.nll(m, "" if d == HELD_OUT else d) for d in nll} for m in models} if nll else {}
    return ReportSpec(models=models, baseline=baseline or models[0], results=results, agreement=agreements,
                      nll=nlls, **fields)


def run_report(spec: ReportSpec, out: Path, code: int = 0):
    """`tuna report --spec FILE -o OUT`, the spec written as JSON beside OUT."""
    spec_file = out.parent / f"{out.name}.spec.json"
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(spec.model_dump_json(indent=1))
    return tuna("report", "--spec", str(spec_file), "-o", str(out), code=code)
