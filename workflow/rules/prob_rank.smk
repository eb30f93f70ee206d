# Probabilistic ranking (Sec. 2.2): the teacher answers every instruction N times with
# token log-probs (one job per shard), then Eq. 3 scores rank the answers. `scoring.beta`
# is a param of `prob_rank` only: changing it re-runs the ranking and what follows, never
# the (paid) teacher calls. API limits are resources, so changing them re-runs nothing.

TEACHER = config["teacher"]["provider"]


rule teacher:
    input:
        instructions="results/data/instructions.jsonl",
        model=provider_input(TEACHER),
    output:
        responses="results/prob_rank/teacher/{shard}.jsonl",
        cost="results/prob_rank/teacher/{shard}.cost.json",
    params:
        shard=lambda w: f"{w.shard}/{len(SHARDS)}",
        sampling=tw.cli_options(
            {key: config["teacher"][key] for key in ("n", "temperature", "max_tokens", "seed") if key in config["teacher"]}
        ),
        provider=provider_args(TEACHER),
        prices=tw.price_args(config, TEACHER),
    log:
        "logs/teacher/{shard}.log",
    threads: 2
    resources:
        api_calls=int(TEACHER["kind"] == "openai"),
        **tw.api_limits(config),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna teacher {input.instructions} --shard {params.shard} {params.sampling} "
        "{params.provider} {params.prices} --concurrency {resources.api_concurrency} "
        "--rpm {resources.api_rpm} --tpm {resources.api_tpm} --timeout {resources.api_timeout} "
        "--max-retries {resources.api_max_retries} -o {output.responses} > {log} 2>&1"


rule prob_rank:
    input:
        instructions="results/data/instructions.jsonl",
        teacher=expand("results/prob_rank/teacher/{shard}.jsonl", shard=SHARDS),
    output:
        "results/prob_rank/ranked.jsonl",
    params:
        beta=config["scoring"]["beta"],
    log:
        "logs/prob_rank.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna score {input.instructions} {input.teacher} --beta {params.beta} -o {output} > {log} 2>&1"
