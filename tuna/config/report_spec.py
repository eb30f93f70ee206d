"""What the report reads, as one typed object: `tuna report --spec FILE` builds every table
and plot from it and nothing else.

The plan writes it from a config (`Plan.report_spec()`); the `report` rule declares its
files as inputs and passes it as a param, so a changed spec or a changed file re-runs
the report, and keeps it as `results/report/spec.json`. Paths are spelled as the rules
spell them (relative to the working directory). To write one by hand, start from a
workflow's `spec.json`. A new table or a new kind of input is one more field here.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from tuna.config import report_jobs, sweeps
from tuna.config.layout import cost_of
from tuna.config.settings import BENCHMARKS, Benchmark, Bootstrap, Section, one_line
from tuna.errors import TunaError

HELD_OUT = "held_out"  # the NLL key of the held-out split, beside the NLL data sets'
# The report's own tables (`evaluation.tables` may not take their names).
OWN_TABLES = ("table1", "lengths", "cost", "jobs", "sources", "table5", "prm_agreement", "table11", "table2", "appendix_g",
              "objectives")
IMPORTED = "imported"  # the objective column of a model not trained


class HumanLabelling(Section):
    """Table 6's comparison: what annotators would cost for the examples the judge ranked."""

    usd_per_comparison: float = Field(ge=0)
    """USD per pairwise comparison by an annotator."""
    comparisons_per_example: int = Field(ge=1)
    """Comparisons to rank one example's responses."""
    judged: list[Path] = []
    """The judge-ranked data sets (`ctx_rank:M`) whose examples are priced."""


class HumanEvaluation(Section):
    """Human scores and human ranks (not made by the workflow: add them to a spec by hand)."""

    scores: Path | None = None
    """Human scores of the evaluated models (`tuna human-import`): Table 2."""
    focus: str = "tuna"
    """Table 2: the model tested against every other one (the paper's †)."""
    ranking_agreement: Path | None = None
    """Judge vs human ranking agreement (`tuna human-agreement`): Appendix G."""


class ReportSpec(Section):
    """Everything `tuna report` reads: models, every input file by its role, tables, sweeps, settings."""

    models: list[str] = Field(min_length=1)
    """The evaluated models: Table 1's rows, in order."""
    baseline: str
    """The model every delta and Vicuna verdict is taken against."""
    results: dict[str, dict[Benchmark, Path]] = {}
    """Model -> benchmark -> its result (`tuna eval-superni`, `eval-lmentry`, `judge-vicuna`); a missing file is a benchmark not run."""
    agreement: dict[str, dict[str, Path]] = {}
    """Model -> ranking data set (`prob_rank`, `ctx_rank:M`, ...) -> its held-out agreement (`tuna eval-agreement`): Table 1's `agree_*`/`tau_*` columns, Table 5, agreement.png."""
    nll: dict[str, dict[str, Path]] = {}
    """Model -> NLL data set -> its NLL (`tuna eval-nll`): `held_out` is the held-out split, the others are NLL data sets in the order Table 5 prefers them."""
    prm_agreement: list[Path] = []
    """Each proxy ranking model's held-out agreement with its judge: prm_agreement.*, agreement.png."""
    rankings: dict[str, Path] = {}
    """Ranking data set -> its file: Table 4 (lengths by rank)."""
    costs: dict[str, list[Path]] = {}
    """Stage -> the cost files of its jobs: the cost table."""
    quarantine: list[Path] = []
    """The ranking judge's quarantined answers, counted as unusable in the cost table."""
    training_curves: dict[str, Path] = {}
    """Trained model -> its checkpoint, whose metrics.jsonl is drawn in training_curves.png."""
    tables: dict[str, list[str]] = {}
    """More tables in Table 1's layout: name -> its rows, models or aliases (`evaluation.tables`)."""
    rows: list[str] = []
    """Table 1's rows in order, models or aliases (`evaluation.models`; empty: `models`)."""
    aliases: dict[str, str] = {}
    """Another name of an evaluated model (`models.M: {alias: ...}`) -> that model: a row so named shows its model's numbers under the alias."""
    paper_numbers: bool = False
    """The paper's published numbers beside the measured ones in Table 1 and the extra tables (`evaluation.paper_numbers`)."""
    jobs: dict[str, dict[str, Path]] = {}
    """Rule -> job -> its Snakemake benchmark TSV (`benchmark:`): the jobs table (wall time, peak memory, CPU time). Read when present, never declared as inputs (tuna.config.report_jobs says why); an absent file is counted, not an error."""
    requested: dict[str, dict[str, dict[str, int]]] = {}
    """Rule -> job -> what it asks the scheduler for (`mem_mb`, `runtime_min`, `gpus`; tuna.config.resources), shown beside what its benchmark measured."""
    objectives: dict[str, str] = {}
    """Model -> its training objective (`train.objective`; `imported` for a model not trained): the `objectives` table, Table 1's rows of these models with a column naming each one's objective. The plan fills it when an evaluated model trains with an objective other than `rank` (config/objectives.yaml); empty: no such table."""
    lambda_sweeps: dict[str, dict[str, float]] = {}
    """Label -> {model: lambda}: models differing only in `train.mle_weight` (lambda_sweep.png)."""
    data_sweeps: dict[str, dict[str, Path]] = {}
    """Label -> {model: checkpoint}: models differing only in `train.max_examples`; each checkpoint's provenance says how many examples it was trained on (data_sweep.png)."""
    beta_sweeps: dict[str, dict[str, float]] = {}
    """Label -> {model: beta}: models differing only in Eq. 3's beta (Table 5)."""
    bootstrap: Bootstrap = Bootstrap()
    """The paired bootstrap behind every delta's interval and p-value."""
    human_labelling: HumanLabelling | None = None
    """Table 6's human-labelling row of the cost table (none: no row)."""
    human: HumanEvaluation = HumanEvaluation()
    """Table 2 and Appendix G, when their files are given."""

    @model_validator(mode="after")
    def _rows_are_models(self):
        for key, names in [("rows", self.rows), *((f"tables.{n}", rows) for n, rows in self.tables.items()),
                           ("aliases", self.aliases.values())]:
            if unknown := [name for name in names if self.aliases.get(name, name) not in self.models]:
                raise ValueError(f"{key}: {unknown[0]!r} is neither an evaluated model nor an alias of one")
        return self

    def model_of(self, row: str) -> str:
        """The evaluated model whose numbers a row shows (itself, unless it is an alias)."""
        return self.aliases.get(row, row)

    def table1_rows(self) -> list[str]:
        return self.rows or self.models

    def result(self, model: str, benchmark: str) -> Path | None:
        return self.results.get(model, {}).get(benchmark)

    def nll_order(self) -> list[str]:
        """NLL data sets in Table 5's order of preference: the named ones, then the held-out split."""
        return [*dict.fromkeys(d for files in self.nll.values() for d in files if d != HELD_OUT), HELD_OUT]

    def tables_written(self) -> dict[str, str]:
        """Name -> short title of every table the report writes when every file exists (as
        STEM.csv, .md and .html); table11, table2 and appendix_g come only with their data."""
        return {"table1": "Table 1: benchmarks", "lengths": "Table 4: length by rank", "cost": "Cost",
                "sources": "Provenance", **{name: name for name in self.tables},
                **({"jobs": "What each job cost"} if self.jobs else {}),
                **({"objectives": "Objectives"} if self.objectives else {}),
                **({"table5": "Table 5: beta by NLL"} if self.beta_sweeps else {}),
                **({"prm_agreement": "PRM agreement"} if self.prm_agreement else {})}

    def plots_drawn(self) -> dict[str, str]:
        """Name -> short title of every plot (NAME.png) the report draws when every file exists."""
        drawn = {
            "vicuna_win_lose_tie": ("Vicuna QA", any(self.result(m, "vicuna") for m in self.models if m != self.baseline)),
            "lambda_sweep": ("Lambda sweep", self.lambda_sweeps),
            "data_sweep": ("Data-amount sweep", self.data_sweeps),
            "agreement": ("Held-out agreement", any(self.agreement.get(m) for m in self.models) or self.prm_agreement),
            "training_curves": ("Training curves", self.training_curves),
        }
        return {name: title for name, (title, has) in drawn.items() if has}

    def inputs(self) -> list[Path]:
        """Every file the report reads (checkpoint directories for their metrics and provenance)."""
        files = [path for role in (self.results, self.agreement, self.nll) for by_model in role.values()
                 for path in by_model.values()]
        files += [*self.prm_agreement, *self.rankings.values(), *(p for ps in self.costs.values() for p in ps),
                  *self.quarantine, *self.training_curves.values(),
                  *(p for points in self.data_sweeps.values() for p in points.values())]
        files += [*(self.human_labelling.judged if self.human_labelling else []),
                  *(p for p in (self.human.scores, self.human.ranking_agreement) if p)]
        return list(dict.fromkeys(files))


def report_spec(plan) -> ReportSpec:
    """The report of a config's plan: its evaluated models and every file the rules make for it."""
    L, config = plan.layout, plan.config
    models = plan.eval_models
    beta_sweeps = sweeps.beta_sweeps(plan)
    swept = [m for points in beta_sweeps.values() for m in points]
    held_out = [m for m in dict.fromkeys([*models, *swept]) if m in plan.held_out_models()]
    split_nll = bool(config.data.held_out) and config.evaluation.held_out.nll
    jobs, requested = report_jobs.benchmarked_jobs(plan, held_out)
    return ReportSpec(
        models=models,
        baseline=plan.baseline,
        results={m: {b: L.result(m, b) for b in BENCHMARKS if b in plan.benchmarks
                     and not (b == "vicuna" and m == plan.baseline)} for m in models},
        agreement={m: {r: L.agreement(m, r) for r in plan.agreement_rankings()} for m in held_out},
        nll={m: {**({HELD_OUT: L.nll(m)} if split_nll else {}), **{d: L.nll(m, d) for d in plan.nll_data()}}
             for m in held_out},
        prm_agreement=list(plan.prm_agreements().values()),
        rankings=ranking_datasets(plan),
        costs=cost_files(plan),
        quarantine=[L.quarantine(m, s) for m in plan.sampled_models() for s in plan.shards],
        training_curves={m: L.checkpoint(m) for m in models if m in plan.trained()},
        tables=config.evaluation.tables,
        rows=list(dict.fromkeys(config.evaluation.models or models)),
        aliases={name: model for name, model in plan.aliases.items()
                 if name in config.evaluation.models or any(name in rows for rows in config.evaluation.tables.values())},
        paper_numbers=config.evaluation.paper_numbers,
        jobs=jobs,
        requested=requested,
        objectives=objectives(plan, models),
        lambda_sweeps=sweeps.mle_weight_sweeps(plan),
        data_sweeps={label: {m: L.checkpoint(m) for m in points} for label, points in sweeps.data_sweeps(plan).items()},
        beta_sweeps=beta_sweeps,
        bootstrap=config.evaluation.bootstrap,
        human_labelling=HumanLabelling(
            usd_per_comparison=config.human.usd_per_comparison,
            comparisons_per_example=config.human.comparisons_per_example,
            judged=[path for part, path in _ranked_parts(plan) if part.name == "ctx_rank"],
        ) if plan.sampled_models() else None,
    )


def objectives(plan, models: list[str]) -> dict[str, str]:
    """Each evaluated model's training objective, when one of them trains with another than Tuna's `rank`."""
    named = {m: plan.train(m).objective if m in plan.trained() else IMPORTED for m in models}
    return named if set(named.values()) - {"rank", IMPORTED} else {}


def _ranked_parts(plan) -> list:
    """(part, file) of every whole ranking data set a declared model trains on, once each (not
    preference data, whose ties leave no rank positions to measure)."""
    parts = {}
    for part in plan.all_parts():
        if part.kind == "ranked" and part.traits.ordered:
            parts.setdefault(part.set_label(), (part, plan.set_file(part)))
    return list(parts.values())


def ranking_datasets(plan) -> dict[str, str]:
    """Every ranking data set a declared model trains on (whole, before slicing): label -> file."""
    return {part.set_label(): path for part, path in _ranked_parts(plan)}


def cost_files(plan) -> dict[str, list[str]]:
    """Stage -> the cost files of every generating job the report's numbers depend on."""
    L = plan.layout
    sampled = plan.sampled_models()
    stages = {
        "teacher": [cost_of(L.teacher(s)) for s in plan.shards] if plan.uses_teacher() else [],
        "self_sampling": [cost_of(L.samples(m, s)) for m in sampled for s in plan.shards],
        "ranking_judge": [cost_of(L.judged(m, s)) for m in sampled for s in plan.shards],
        "answers": [cost_of(L.answers(m, name)) for m in plan.eval_models for name in plan.answer_sets()],
        "vicuna_judge": [cost_of(L.result(m, "vicuna")) for m in plan.judged_models()],
    }
    return {stage: files for stage, files in stages.items() if files}


def read_spec(text: str, source: str) -> ReportSpec:
    """A report spec from its JSON or YAML text; a TunaError naming `source` and the key for anything wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TunaError(f"{source}: not valid JSON or YAML: {exc}") from None
    try:
        return ReportSpec.model_validate(data)
    except ValidationError as exc:
        raise TunaError(f"{source}: {one_line(exc)}") from None
