# Probabilistic ranking (Sec. 2.2): the teacher answers every instruction N times with
# token log-probs (one job per shard), then Eq. 3 scores rank the answers. `scoring` is a
# param of the ranking rules only: changing beta re-runs the ranking and what follows,
# never the (paid) teacher calls; a model's own beta (Table 5) is another ranking of the
# same teacher output. API limits are resources, so changing them re-runs nothing.


rule teacher:
    input:
        instructions=L.instructions(),
        model=lambda w: PLAN.teacher().inputs,
    output:
        responses=L.teacher("{shard}"),
        cost=cost_of(L.teacher("{shard}")),
    params:
        code=code_of("teacher"),
        shard=lambda w: f"{w.shard}/{len(SHARDS)}",
        sampling=lambda w: cli_options(PLAN.config.teacher.model_dump(exclude={"provider"})),
        provider=lambda w: PLAN.teacher().args(),
    log:
        L.log("teacher/{shard}"),
    benchmark:
        L.benchmark("teacher/{shard}"),
    threads: threads_of(JOBS.teacher)
    resources:
        api_calls=lambda w: int(PLAN.teacher().is_api),
        **API_LIMITS,
        **resources_of(JOBS.teacher),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna teacher {input.instructions} --shard {params.shard} {params.sampling} {params.provider} "
        f"{API_OPTIONS} -o {{output.responses}} > {{log}} 2>&1"


rule score:
    input:
        instructions=L.instructions(),
        teacher=[L.teacher(shard) for shard in SHARDS],
    output:
        L.prob_ranked(),
    params:
        code=code_of("score"),
        beta=PLAN.config.scoring.beta,
        truncated=PLAN.config.scoring.truncated,
    log:
        L.log("score"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna score {input.instructions} {input.teacher} --beta {params.beta} --truncated {params.truncated} "
        "-o {output} > {log} 2>&1"


use rule score as score_beta with:
    output:
        L.prob_ranked("_beta{beta}"),
    params:
        code=code_of("score"),
        beta="{beta}",
        truncated=PLAN.config.scoring.truncated,
    wildcard_constraints:
        beta=names(PLAN.scoring_betas("prob_rank").values()),
    log:
        L.log("score_beta/{beta}"),
