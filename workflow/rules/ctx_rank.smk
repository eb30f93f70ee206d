# Contextual ranking (Sec. 2.3-2.4): each model samples itself (sharded), a judge ranks
# the samples of the first `data.ctx_rank_limit` instructions, a proxy ranking model
# (when a `prm_rank:` model is declared) ranks the rest.

CTX_FIRST = config["data"]["ctx_rank_limit"]
PRM_SAMPLED = tw.prm_sampled_models(config)


rule sample:
    input:
        instructions="results/data/instructions.jsonl",
        model=lambda w: provider_input(sampler_spec(w.model)),
    output:
        samples="results/ctx_rank/{model}/samples/{shard}.jsonl",
        cost="results/ctx_rank/{model}/samples/{shard}.cost.json",
    params:
        shard=lambda w: f"{w.shard}/{len(SHARDS)}",
        sampling=lambda w: tw.cli_options({
            "first": None if w.model in PRM_SAMPLED else CTX_FIRST,
            **{key: config["sampling"][key] for key in
               ("n", "temperature", "temperature_step", "max_trials", "tau", "max_tokens", "seed")},
        }),
        provider=lambda w: provider_args(sampler_spec(w.model)),
        prices=lambda w: tw.price_args(config, sampler_spec(w.model)),
    wildcard_constraints:
        model=tw.name_regex(list(config["models"])),
    log:
        "logs/sample/{model}/{shard}.log",
    threads: 2
    resources:
        api_calls=lambda w: int(sampler_spec(w.model)["kind"] == "openai"),
        **tw.api_limits(config),
    conda:
        lambda w: conda_env(uses_gpu(sampler_spec(w.model)))
    shell:
        "tuna sample --instructions {input.instructions} --shard {params.shard} {params.sampling} "
        "{params.provider} {params.prices} --concurrency {resources.api_concurrency} --rpm {resources.api_rpm} "
        "--tpm {resources.api_tpm} --timeout {resources.api_timeout} --max-retries {resources.api_max_retries} "
        "-o {output.samples} > {log} 2>&1"


rule judge:
    input:
        instructions="results/data/instructions.jsonl",
        samples="results/ctx_rank/{model}/samples/{shard}.jsonl",
        judge=provider_input(config["judge"]["provider"]),
    output:
        judged="results/ctx_rank/{model}/judged/{shard}.jsonl",
        quarantine="results/ctx_rank/{model}/judged/{shard}.quarantine.jsonl",
        cost="results/ctx_rank/{model}/judged/{shard}.cost.json",
    params:
        judging=tw.cli_options({
            "first": CTX_FIRST,
            **{key: config["judge"][key] for key in ("max_tokens", "retries", "constrained") if key in config["judge"]},
        }),
        provider=provider_args(config["judge"]["provider"]),
        prices=tw.price_args(config, config["judge"]["provider"]),
    log:
        "logs/judge/{model}/{shard}.log",
    threads: 2
    resources:
        api_calls=int(config["judge"]["provider"]["kind"] == "openai"),
        **tw.api_limits(config),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna judge --instructions {input.instructions} --samples {input.samples} {params.judging} "
        "{params.provider} {params.prices} --concurrency {resources.api_concurrency} --rpm {resources.api_rpm} "
        "--tpm {resources.api_tpm} --timeout {resources.api_timeout} --max-retries {resources.api_max_retries} "
        "-o {output.judged} --quarantine {output.quarantine} > {log} 2>&1"


rule ctx_rank:
    input:
        instructions="results/data/instructions.jsonl",
        samples=expand("results/ctx_rank/{{model}}/samples/{shard}.jsonl", shard=SHARDS),
        judged=expand("results/ctx_rank/{{model}}/judged/{shard}.jsonl", shard=SHARDS),
    output:
        "results/ctx_rank/{model}/ranked.jsonl",
    params:
        shards=lambda w, input: " ".join(
            f"--samples {s} --judged {j}" for s, j in zip(input.samples, input.judged)
        ),
    log:
        "logs/ctx_rank/{model}.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna ctx-rank --instructions {input.instructions} {params.shards} -o {output} > {log} 2>&1"


rule prm_train:
    input:
        ranked="results/ctx_rank/{model}/ranked.jsonl",
        backbone=f"checkpoints/{config['prm']['backbone']}",
    output:
        directory("results/ctx_rank/{model}/prm"),
    params:
        training=tw.cli_options({
            "template": tw.model_template(config, config["prm"]["backbone"]),
            **{key: config["prm"][key] for key in ("lr", "epochs", "max_length", "seed") if key in config["prm"]},
        }),
    log:
        "logs/prm_train/{model}.log",
    threads: 2
    resources:
        mem_mb=8000,
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna prm-train --ranked {input.ranked} --backbone {input.backbone} {params.training} "
        "-o {output} > {log} 2>&1"


rule prm_rank:
    input:
        prm="results/ctx_rank/{model}/prm",
        instructions="results/data/instructions.jsonl",
        samples=expand("results/ctx_rank/{{model}}/samples/{shard}.jsonl", shard=SHARDS),
        judged_ranked="results/ctx_rank/{model}/ranked.jsonl",
    output:
        "results/ctx_rank/{model}/prm_ranked.jsonl",
    params:
        samples=lambda w, input: " ".join(f"--samples {path}" for path in input.samples),
    log:
        "logs/prm_rank/{model}.log",
    threads: 2
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna prm-rank --prm {input.prm} --instructions {input.instructions} {params.samples} "
        "--judged-ranked {input.judged_ranked} -o {output} > {log} 2>&1"
