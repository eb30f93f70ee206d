# The report (results/report): Table 1, Table 4 per ranking data set, the cost table, the
# sources of every number, plots. The plan writes the report spec (tuna.config.report_spec):
# what the report shows and every file it reads. Those files are the rule's inputs and the
# spec is its param, so a changed file or a changed spec re-runs the report; `tuna report`
# reads the spec alone and keeps it as results/report/spec.json.
# `snakemake --report report.html` shows the HTML tables, the plots and each model's results.
# The jobs table reads the heavy jobs' benchmark TSVs without declaring them: each job's outputs
# already are (transitively) inputs here, and a missing TSV must not re-run a finished job
# (tuna.config.report_jobs).
REPORT_SPEC = PLAN.report_spec()
# Each table is written as CSV, Markdown and HTML; `snakemake --report` shows the HTML.
REPORT_TABLES = REPORT_SPEC.tables_written()
# Plots are declared only when the spec has what they draw.
REPORT_PLOTS = REPORT_SPEC.plots_drawn()


rule report:
    input:
        [str(path) for path in REPORT_SPEC.inputs()],
    output:
        spec=L.report("spec.json"),
        **{f"{name}_{ext}": L.report(f"{name}.{ext}") for name in REPORT_TABLES for ext in ("csv", "md")},
        **{
            name: report(
                L.report(f"{name}.html"),
                caption=f"../report/{name if name not in REPORT_SPEC.tables else 'more_tables'}.rst",
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
        spec=REPORT_SPEC.model_dump_json(),
        out=lambda w, output: os.path.dirname(output.spec),
    log:
        L.log("report"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "printf '%s' {params.spec:q} | tuna report --spec - -o {params.out} > {log} 2>&1"
