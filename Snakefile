# tuna: instruction tuning with feedback from LLMs (arXiv 2310.13385).
# Entry point: `snakemake --cores all` builds the default target; any artifact of the
# DAG (README.md) can be asked for by path, e.g. `snakemake --cores all checkpoints/tuna_p`.
import re

from snakemake.utils import min_version

min_version("8.20")

# A --configfile stands alone: the embedded default is read only when none is given,
# so a config's models (and every other collection) are exactly its own.
CONFIG_FILES = [str(path) for path in workflow.config_settings.configfiles]
if not CONFIG_FILES:
    CONFIG_FILES = ["config/config.yaml"]

    configfile: "config/config.yaml"


CONFIG_SOURCE = ", ".join(CONFIG_FILES)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/preferences.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/prob_rank.smk"
include: "workflow/rules/ctx_rank.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/held_out.smk"
include: "workflow/rules/report.smk"


onsuccess:
    # What training did, the Vicuna verdicts and where the report is, for whoever ran it.
    from tuna.run_summary import summary

    if text := summary(PLAN):
        print(text)


# The report and every held-out evaluation (also those of models the report does not show).
rule all:
    default_target: True
    input:
        rules.report.output,
        rules.held_out.input,
