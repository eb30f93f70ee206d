# Contextual ranking (Sec. 2.3-2.4): each model samples itself (sharded), a judge ranks
# the samples of the first `data.ctx_rank_limit` instructions (and of the held-out split,
# for the held-out agreement), and proxy ranking models (for `prm_rank:` data), trained on
# the judge's ranks, rank the samples of every instruction (a model's data slices them).

CTX_FIRST = PLAN.config.data.ctx_rank_limit
JUDGE = PLAN.config.judge


rule sample:
    input:
        instructions=L.instructions(),
        held_out=lambda w: judged_held_out(None if PLAN.samples_all(w.model) else CTX_FIRST),
        model=lambda w: PLAN.sampler(w.model).inputs,
    output:
        samples=L.samples("{model}", "{shard}"),
        cost=cost_of(L.samples("{model}", "{shard}")),
    params:
        code=code_of("sample"),
        shard=lambda w: f"{w.shard}/{len(SHARDS)}",
        held_out=lambda w, input: held_out_option(input),
        sampling=lambda w: cli_options({
            "first": None if PLAN.samples_all(w.model) else CTX_FIRST,
            **PLAN.config.sampling.model_dump(exclude={"provider"}),
        }),
        provider=lambda w: PLAN.sampler(w.model).args(),
    wildcard_constraints:
        model=names(PLAN.sampled_models()),
    log:
        L.log("sample/{model}/{shard}"),
    benchmark:
        L.benchmark("sample/{model}/{shard}"),
    threads: threads_of(JOBS.sampler)
    resources:
        api_calls=lambda w: int(PLAN.sampler(w.model).is_api),
        **API_LIMITS,
        **resources_of(JOBS.sampler),
    conda:
        lambda w: conda_env(PLAN.sampler(w.model).uses_gpu)
    shell:
        "tuna sample --instructions {input.instructions} --shard {params.shard} {params.held_out} {params.sampling} "
        f"{{params.provider}} {API_OPTIONS} -o {{output.samples}} > {{log}} 2>&1"


rule judge:
    input:
        instructions=L.instructions(),
        samples=L.samples("{model}", "{shard}"),
        held_out=judged_held_out(CTX_FIRST),
        judge=lambda w: PLAN.judge().inputs,
    output:
        judged=L.judged("{model}", "{shard}"),
        quarantine=L.quarantine("{model}", "{shard}"),
        cost=cost_of(L.judged("{model}", "{shard}")),
    params:
        code=code_of("judge"),
        judging=cli_options({"first": CTX_FIRST, **JUDGE.model_dump(exclude={"provider"}),
                             "system_prompt": JUDGE.system_prompt or ""}),
        held_out=lambda w, input: held_out_option(input),
        provider=lambda w: PLAN.judge().args(),
    log:
        L.log("judge/{model}/{shard}"),
    benchmark:
        L.benchmark("judge/{model}/{shard}"),
    threads: threads_of(JOBS.judge)
    resources:
        api_calls=lambda w: int(PLAN.judge().is_api),
        **API_LIMITS,
        **resources_of(JOBS.judge),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna judge --instructions {input.instructions} --samples {input.samples} {params.held_out} {params.judging} "
        f"{{params.provider}} {API_OPTIONS} -o {{output.judged}} --quarantine {{output.quarantine}} > {{log}} 2>&1"


rule ctx_rank:
    input:
        instructions=L.instructions(),
        samples=[L.samples("{model}", shard) for shard in SHARDS],
        judged=[L.judged("{model}", shard) for shard in SHARDS],
    output:
        L.ctx_ranked("{model}"),
    params:
        code=code_of("ctx-rank"),
        shards=lambda w, input: " ".join(f"--samples {s} --judged {j}" for s, j in zip(input.samples, input.judged)),
    log:
        L.log("ctx_rank/{model}"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna ctx-rank --instructions {input.instructions} {params.shards} -o {output} > {log} 2>&1"


rule prm_train:
    input:
        ranked=L.ctx_ranked("{model}"),
        backbone=lambda w: L.checkpoint(prm_settings(w).backbone),
        held_out=L.held_out(),
    output:
        directory(L.prm("{model}", "{prm}")),
    params:
        code=code_of("prm-train"),
        launcher=lambda w: PLAN.prm_launcher(w.model, w.prm),
        template=lambda w: PLAN.template(prm_settings(w).backbone),
        training=lambda w: PLAN.prm_options(w.prm),
    wildcard_constraints:
        prm=names(PLAN.config.prms),
    log:
        L.log("prm_train/{model}/{prm}"),
    benchmark:
        L.benchmark("prm_train/{model}/{prm}"),
    threads: threads_of(JOBS.prm_train)
    resources:
        **resources_of(JOBS.prm_train),
    conda:
        lambda w: conda_env(prm_settings(w).num_gpus > 0)
    shell:
        "OMP_NUM_THREADS={threads} {params.launcher} --ranked {input.ranked} --backbone {input.backbone} "
        "--template {params.template} {params.training} --held-out {input.held_out} --resume -o {output} > {log} 2>&1"


rule prm_rank:
    input:
        prm=L.prm("{model}", "{prm}"),
        instructions=L.instructions(),
        samples=[L.samples("{model}", shard) for shard in SHARDS],
    output:
        L.prm_ranked("{model}", "{prm}"),
    params:
        code=code_of("prm-rank"),
        samples=lambda w, input: repeat_option("--samples", input.samples),
        scoring=lambda w: cli_options({"batch_size": prm_settings(w).rank_batch_size,
                                       "precision": prm_settings(w).precision}),
    wildcard_constraints:
        prm=names(PLAN.config.prms),
    log:
        L.log("prm_rank/{model}/{prm}"),
    benchmark:
        L.benchmark("prm_rank/{model}/{prm}"),
    threads: threads_of(JOBS.prm_rank)
    resources:
        **resources_of(JOBS.prm_rank),
    conda:
        lambda w: conda_env(prm_settings(w).num_gpus > 0)
    shell:
        "OMP_NUM_THREADS={threads} tuna prm-rank --prm {input.prm} --instructions {input.instructions} {params.samples} "
        "{params.scoring} -o {output} > {log} 2>&1"
