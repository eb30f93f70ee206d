# Held-out evaluation without generation (evaluation.held_out, on the data.held_out split
# no model trains on): each model's ranking agreement with the held-out ranks of each
# configured ranking data set, the NLL of the held-out reference responses and of each NLL
# data set, and each proxy ranking model's agreement with its judge.
# `snakemake --cores all held_out` builds them all (the report reads them too).


# {ranking} is a data set's file-name token (set_token: `ctx_rank-M` for `ctx_rank:M`).
RANKING_OF_TOKEN = {set_token(ranking): ranking for ranking in PLAN.agreement_rankings()}


rule eval_agreement:
    input:
        checkpoint=L.checkpoint("{model}"),
        ranked=lambda w: PLAN.agreement_rankings()[RANKING_OF_TOKEN[w.ranking]],
        held_out=L.held_out(),
    output:
        report(L.agreement("{model}", "{ranking}"), caption="../report/held_out_agreement.rst", category="Results",
               subcategory="{model}"),
    params:
        code=code_of("eval-agreement"),
        data_name=lambda w: RANKING_OF_TOKEN[w.ranking],
        template=lambda w: PLAN.template(w.model),
        max_length=lambda w: PLAN.held_out_max_length(w.model),
    wildcard_constraints:
        model=names(PLAN.held_out_models()),
        ranking=names(RANKING_OF_TOKEN),
    log:
        L.log("eval_agreement/{model}/{ranking}"),
    threads: threads_of(JOBS.held_out)
    resources:
        **resources_of(JOBS.held_out),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "OMP_NUM_THREADS={threads} tuna eval-agreement --checkpoint {input.checkpoint} --ranked {input.ranked} "
        "--held-out {input.held_out} --data-name {params.data_name} --template {params.template} "
        "--max-length {params.max_length} --model-name {wildcards.model} -o {output} > {log} 2>&1"


rule eval_nll:
    input:
        checkpoint=L.checkpoint("{model}"),
        data=L.held_out(),
    output:
        report(L.nll("{model}"), caption="../report/held_out_nll.rst", category="Results", subcategory="{model}"),
    params:
        code=code_of("eval-nll"),
        data=lambda w, input: input.data,
        name="held_out",
        template=lambda w: PLAN.template(w.model),
        max_length=lambda w: PLAN.held_out_max_length(w.model),
    wildcard_constraints:
        model=names(PLAN.held_out_models()),
    log:
        L.log("eval_nll/{model}"),
    threads: threads_of(JOBS.held_out)
    resources:
        **resources_of(JOBS.held_out),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "OMP_NUM_THREADS={threads} tuna eval-nll --checkpoint {input.checkpoint} --data {params.data:q} "
        "--data-name {params.name} --template {params.template} --max-length {params.max_length} "
        "--model-name {wildcards.model} -o {output} > {log} 2>&1"


# An NLL data set (evaluation.held_out.nll_data, e.g. LIMA): a user's file is an input only
# when it exists, so a missing one fails this job naming it rather than the whole plan; a
# file on the Hub is fetched by the job at the commit the plan pinned.
use rule eval_nll as eval_nll_data with:
    input:
        checkpoint=L.checkpoint("{model}"),
        data=lambda w: planned_input(PLAN.nll_data()[w.data]),
    output:
        report(L.nll("{model}", "{data}"), caption="../report/held_out_nll.rst", category="Results",
               subcategory="{model}"),
    params:
        code=code_of("eval-nll"),
        data=lambda w: pin(PLAN.nll_data()[w.data]),
        name="{data}",
        template=lambda w: PLAN.template(w.model),
        max_length=lambda w: PLAN.held_out_max_length(w.model),
    wildcard_constraints:
        model=names(PLAN.held_out_models()),
        data=names(PLAN.nll_data()),
    log:
        L.log("eval_nll_data/{model}/{data}"),


# A proxy ranking model's held-out agreement with the judge whose ranks it learned (Sec. 2.4).
rule eval_agreement_prm:
    input:
        prm=L.prm("{model}", "{prm}"),
        ranked=L.ctx_ranked("{model}"),
        held_out=L.held_out(),
    output:
        report(L.prm_agreement("{model}", "{prm}"), caption="../report/held_out_prm_agreement.rst", category="Results",
               subcategory="{prm}"),
    wildcard_constraints:
        model=names({model for model, _ in PLAN.prm_agreements()}),
        prm=names({prm for _, prm in PLAN.prm_agreements()}),
    params:
        code=code_of("eval-agreement"),
    log:
        L.log("eval_agreement_prm/{model}/{prm}"),
    threads: threads_of(JOBS.prm_rank)
    resources:
        **resources_of(JOBS.prm_rank),
    conda:
        lambda w: conda_env(prm_settings(w).num_gpus > 0)
    shell:
        "OMP_NUM_THREADS={threads} tuna eval-agreement --checkpoint {input.prm} --ranked {input.ranked} "
        "--held-out {input.held_out} --data-name ctx_rank:{wildcards.model} --model-name {wildcards.prm} "
        "-o {output} > {log} 2>&1"


rule held_out:
    input:
        PLAN.held_out_results(),
