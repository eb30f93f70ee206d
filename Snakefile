# tuna: instruction tuning with feedback from LLMs (arXiv 2310.13385).
# Entry point: `snakemake --cores all` builds the default target; any artifact of the
# DAG (README.md) can be asked for by path, e.g. `snakemake --cores all checkpoints/tuna_p`.
from snakemake.utils import min_version

min_version("8.20")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/prob_rank.smk"
include: "workflow/rules/ctx_rank.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.report.output,
