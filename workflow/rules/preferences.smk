# Preference data in and out. In: a model's `set: preferences` data (a file from elsewhere,
# through the config's field mapping) as ranked records. Out, on request: any ranking data set
# as TRL-style preference data, e.g. `snakemake --cores 1 results/preferences/prob_rank/pairwise`
# (pairwise, best_vs_rest or listwise; ctx_rank:M is written ctx_rank-M).
from tuna.config.plan import PREFERENCE_EXPORTS


rule import_preferences:
    input:
        lambda w: planned_input(PLAN.preference_file(PLAN.preference_imports()[w.name])),
    output:
        L.imported_preferences("{name}"),
    params:
        code=code_of("import-preferences"),
        location=lambda w: PLAN.preference_file(PLAN.preference_imports()[w.name]),
        options=lambda w: PLAN.import_args(PLAN.preference_imports()[w.name]),
    wildcard_constraints:
        name=names(PLAN.preference_imports()),
    log:
        L.log("import_preferences/{name}"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna import-preferences {params.location:q} {params.options} -o {output} > {log} 2>&1"


rule export_preferences:
    input:
        lambda w: PLAN.set_file(PLAN.ranked_sets()[w.set]),
    output:
        directory(L.preferences("{set}", "{export}")),
    params:
        code=code_of("export-preferences"),
        options=lambda w: PLAN.export_args(w.set, w.export),
    wildcard_constraints:
        set=names(PLAN.ranked_sets()),
        export=names(PREFERENCE_EXPORTS),
    log:
        L.log("export_preferences/{set}/{export}"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna export-preferences {input} {params.options} -o {output} > {log} 2>&1"
