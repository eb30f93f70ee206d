# The report (results/report): Table 1, Table 4 per ranking data set, the cost table, the
# sources of every number, plots. Every file those are read from is an input, derived from
# the config as the rules that write them derive them, so a changed file re-runs the report.
# `snakemake --report report.html` shows the HTML tables, the plots and each model's results.
from tuna.evaluate import report_inputs

REPORT_RESULTS = [
    f"results/{model}/{benchmark}.json"
    for model in EVAL_MODELS
    for benchmark in EVAL["benchmarks"]
    if not (benchmark == "vicuna" and model == BASELINE)
]
REPORT_RANKED = report_inputs.ranking_datasets(config)
REPORT_COSTS = report_inputs.cost_files(config)
REPORT_QUARANTINE = report_inputs.quarantine_files(config)
REPORT_SWEEPS = report_inputs.mle_weight_sweeps(config)
# A data-amount sweep reads how many examples each model was trained on from its checkpoint.
REPORT_DATA_SWEEPS = {
    label: {model: f"checkpoints/{model}" for model in models}
    for label, models in report_inputs.data_sweeps(config).items()
}
# Each table is written as CSV, Markdown and HTML; `snakemake --report` shows the HTML.
REPORT_TABLES = {
    "table1": "Table 1: benchmarks",
    "lengths": "Table 4: length by rank",
    "cost": "Cost",
    "sources": "Provenance",
}
# Plots are declared only when the config has what they draw.
REPORT_PLOTS = {
    name: title
    for name, title, drawn in (
        ("vicuna_win_lose_tie", "Vicuna QA", report_inputs.judged_models(config)),
        ("lambda_sweep", "Lambda sweep", REPORT_SWEEPS),
        ("data_sweep", "Data-amount sweep", REPORT_DATA_SWEEPS),
    )
    if drawn
}


rule report:
    input:
        results=REPORT_RESULTS,
        ranked=list(REPORT_RANKED.values()),
        costs=[path for _, path in REPORT_COSTS],
        quarantine=REPORT_QUARANTINE,
        checkpoints=[path for points in REPORT_DATA_SWEEPS.values() for path in points.values()],
    output:
        **{f"{name}_{ext}": f"results/report/{name}.{ext}" for name in REPORT_TABLES for ext in ("csv", "md")},
        **{
            name: report(
                f"results/report/{name}.html", caption=f"../report/{name}.rst", category="Tables", subcategory=title
            )
            for name, title in REPORT_TABLES.items()
        },
        **{
            name: report(
                f"results/report/{name}.png", caption=f"../report/{name}.rst", category="Plots", subcategory=title
            )
            for name, title in REPORT_PLOTS.items()
        },
    params:
        models=report_inputs.repeat_option("--model", EVAL_MODELS),
        baseline=BASELINE,
        ranked=report_inputs.repeat_option("--ranked", [f"{data}={path}" for data, path in REPORT_RANKED.items()]),
        costs=report_inputs.repeat_option("--cost", [f"{stage}={path}" for stage, path in REPORT_COSTS]),
        quarantine=report_inputs.repeat_option("--quarantine", REPORT_QUARANTINE),
        sweeps=report_inputs.repeat_option(
            "--sweep",
            [f"{label}={model}:{weight}" for label, weights in REPORT_SWEEPS.items() for model, weight in weights.items()],
        ),
        data_sweeps=report_inputs.repeat_option(
            "--data-sweep",
            [f"{label}={model}:{path}" for label, points in REPORT_DATA_SWEEPS.items() for model, path in points.items()],
        ),
    log:
        "logs/report.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna report --results results {params.models} --baseline {params.baseline} {params.ranked} "
        "{params.costs} {params.quarantine} {params.sweeps} {params.data_sweeps} -o results/report > {log} 2>&1"
