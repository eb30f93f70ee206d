# Held-out evaluation without generation (evaluation.held_out, on the data.held_out split
# no model trains on): each model's ranking agreement with the held-out ranks of each
# configured ranking data set, and the NLL of the held-out reference responses.
# `snakemake --cores all heldout` builds them all (the report reads them too).


rule eval_agreement:
    input:
        checkpoint=L.checkpoint("{model}"),
        ranked=lambda w: PLAN.agreement_rankings()[w.ranking],
        held_out=L.held_out(),
    output:
        report(L.agreement("{model}", "{ranking}"), caption="../report/heldout_agreement.rst", category="Results",
               subcategory="{model}"),
    params:
        template=lambda w: PLAN.template(w.model),
        max_length=lambda w: PLAN.heldout_max_length(w.model),
    wildcard_constraints:
        model=names(PLAN.heldout_models()),
        ranking=names(PLAN.agreement_rankings()),
    log:
        L.log("eval_agreement/{model}/{ranking}"),
    threads: threads_of(JOBS.held_out)
    resources:
        **resources_of(JOBS.held_out),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "OMP_NUM_THREADS={threads} tuna eval-agreement --checkpoint {input.checkpoint} --ranked {input.ranked} "
        "--held-out {input.held_out} --data-name {wildcards.ranking} --template {params.template} "
        "--max-length {params.max_length} --model-name {wildcards.model} -o {output} > {log} 2>&1"


rule eval_nll:
    input:
        checkpoint=L.checkpoint("{model}"),
        held_out=L.held_out(),
    output:
        report(L.result("{model}", "nll"), caption="../report/heldout_nll.rst", category="Results", subcategory="{model}"),
    params:
        template=lambda w: PLAN.template(w.model),
        max_length=lambda w: PLAN.heldout_max_length(w.model),
    wildcard_constraints:
        model=names(PLAN.heldout_models()),
    log:
        L.log("eval_nll/{model}"),
    threads: threads_of(JOBS.held_out)
    resources:
        **resources_of(JOBS.held_out),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "OMP_NUM_THREADS={threads} tuna eval-nll --checkpoint {input.checkpoint} --data {input.held_out} "
        "--template {params.template} --max-length {params.max_length} --model-name {wildcards.model} "
        "-o {output} > {log} 2>&1"


rule heldout:
    input:
        PLAN.heldout_results(),
