# The report (results/report): Table 1, Table 4 per ranking data set, the cost table, the
# sources of every number, plots. Every file those are read from is an input, derived from
# the config as the rules that write them derive them, so a changed file re-runs the report.
# `snakemake --report report.html` shows the HTML tables, the plots and each model's results.
from tuna.evaluate import report_inputs

REPORT_RESULTS = PLAN.results() + PLAN.held_out_results()
# Training curves of every evaluated model that is trained (from its checkpoint's metrics.jsonl).
REPORT_TRAINING = {model: L.checkpoint(model) for model in PLAN.eval_models if model in PLAN.trained()}
REPORT_RANKED = report_inputs.ranking_datasets(PLAN)
REPORT_COSTS = report_inputs.cost_files(PLAN)
REPORT_QUARANTINE = report_inputs.quarantine_files(PLAN)
REPORT_SWEEPS = report_inputs.mle_weight_sweeps(PLAN)
# A data-amount sweep reads how many examples each model was trained on from its checkpoint.
REPORT_DATA_SWEEPS = {
    label: {model: L.checkpoint(model) for model in models}
    for label, models in report_inputs.data_sweeps(PLAN).items()
}
# Table 5: Eq. 3 beta sweeps among the held-out-evaluated models; each PRM's agreement with its judge.
REPORT_BETA_SWEEPS = report_inputs.beta_sweeps(PLAN)
REPORT_PRM_AGREEMENT = list(PLAN.prm_agreements().values())
# Each table is written as CSV, Markdown and HTML; `snakemake --report` shows the HTML.
REPORT_TABLES = {
    "table1": "Table 1: benchmarks",
    "lengths": "Table 4: length by rank",
    "cost": "Cost",
    "sources": "Provenance",
    **{name: name for name in EVAL.tables},
    **({"table5": "Table 5: beta by NLL"} if REPORT_BETA_SWEEPS else {}),
    **({"prm_agreement": "PRM agreement"} if REPORT_PRM_AGREEMENT else {}),
}
# Plots are declared only when the config has what they draw.
REPORT_PLOTS = {
    name: title
    for name, title, drawn in (
        ("vicuna_win_lose_tie", "Vicuna QA", PLAN.judged_models()),
        ("lambda_sweep", "Lambda sweep", REPORT_SWEEPS),
        ("data_sweep", "Data-amount sweep", REPORT_DATA_SWEEPS),
        ("agreement", "Held-out agreement", (PLAN.held_out_models() and PLAN.agreement_rankings()) or REPORT_PRM_AGREEMENT),
        ("training_curves", "Training curves", REPORT_TRAINING),
    )
    if drawn
}


rule report:
    input:
        results=REPORT_RESULTS,
        ranked=list(REPORT_RANKED.values()),
        costs=[path for _, path in REPORT_COSTS],
        quarantine=REPORT_QUARANTINE,
        checkpoints=[path for points in REPORT_DATA_SWEEPS.values() for path in points.values()]
        + list(REPORT_TRAINING.values()),
    output:
        **{f"{name}_{ext}": L.report(f"{name}.{ext}") for name in REPORT_TABLES for ext in ("csv", "md")},
        **{
            name: report(
                L.report(f"{name}.html"),
                caption=f"../report/{name if name not in EVAL.tables else 'more_tables'}.rst",
                category="Tables",
                subcategory=title,
            )
            for name, title in REPORT_TABLES.items()
        },
        **{
            name: report(
                L.report(f"{name}.png"), caption=f"../report/{name}.rst", category="Plots", subcategory=title
            )
            for name, title in REPORT_PLOTS.items()
        },
    params:
        code=code_of("report"),
        models=repeat_option("--model", PLAN.eval_models),
        baseline=BASELINE,
        ranked=repeat_option("--ranked", [f"{data}={path}" for data, path in REPORT_RANKED.items()]),
        costs=repeat_option("--cost", [f"{stage}={path}" for stage, path in REPORT_COSTS]),
        quarantine=repeat_option("--quarantine", REPORT_QUARANTINE),
        sweeps=repeat_option(
            "--sweep",
            [f"{label}={model}:{weight}" for label, weights in REPORT_SWEEPS.items() for model, weight in weights.items()],
        ),
        tables=repeat_option("--table", [f"{name}={','.join(map(PLAN.canonical, models))}"  # an alias: its model's row
                                         for name, models in EVAL.tables.items()]),
        human=(f"--human-price {PLAN.config.human.usd_per_comparison} {PLAN.config.human.comparisons_per_example}"
               if PLAN.sampled_models() else ""),
        data_sweeps=repeat_option(
            "--data-sweep",
            [f"{label}={model}:{path}" for label, points in REPORT_DATA_SWEEPS.items() for model, path in points.items()],
        ),
        training=repeat_option("--training", [f"{model}={path}" for model, path in REPORT_TRAINING.items()]),
        held_out=" ".join([
            repeat_option("--nll-data", PLAN.nll_data()),
            repeat_option(
                "--beta-sweep",
                [f"{label}={model}:{beta}" for label, betas in REPORT_BETA_SWEEPS.items() for model, beta in betas.items()],
            ),
            repeat_option("--prm-agreement", REPORT_PRM_AGREEMENT),
        ]),
        bootstrap=cli_options({"bootstrap_resamples": PLAN.config.evaluation.bootstrap.resamples,
                               "bootstrap_seed": PLAN.config.evaluation.bootstrap.seed}),
        results=lambda w, output: os.path.dirname(os.path.dirname(output.table1_csv)),
        out=lambda w, output: os.path.dirname(output.table1_csv),
    log:
        L.log("report"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna report --results {params.results} {params.models} --baseline {params.baseline} {params.ranked} "
        "{params.costs} {params.quarantine} {params.sweeps} {params.data_sweeps} {params.tables} {params.human} "
        "{params.training} {params.held_out} {params.bootstrap} -o {params.out} > {log} 2>&1"
