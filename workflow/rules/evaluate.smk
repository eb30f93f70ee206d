# Evaluation (Sec. 3): benchmark prompts, greedy answers of every evaluated model, scores
# (Super-NI, LMentry) and Vicuna QA judged against the baseline; the report is report.smk.

EVAL = config["evaluation"]
EVAL_MODELS = EVAL["models"]
BASELINE = EVAL["baseline"]
VICUNA = tw.vicuna_plan(config)
SUPERNI = EVAL.get("superni", {})
LMENTRY = EVAL.get("lmentry", {})
SUPERNI_SHOTS = SUPERNI.get("shots", [0, 2])
VICUNA_JUDGE = VICUNA["judge"]


wildcard_constraints:
    prompts="vicuna|lmentry|superni_[02]shot",
    shots="[02]",


rule fetch_superni:
    input:
        "resources/downloads/superni_test_tasks.txt",
    output:
        directory("resources/superni/tasks"),
    log:
        "logs/fetch_superni.log",
    resources:
        downloads=1,
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna fetch-superni --tasks {input} -o {output} > {log} 2>&1"


rule fetch_lmentry:
    output:
        directory("resources/lmentry/data"),
    log:
        "logs/fetch_lmentry.log",
    resources:
        downloads=1,
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna fetch-lmentry -o {output} > {log} 2>&1"


rule vicuna_prompts:
    input:
        [VICUNA["questions"]] if VICUNA["questions"] else [],
    output:
        "results/eval/prompts/vicuna.jsonl",
    params:
        data=lambda w, input: input[0] if input else "demo",
    log:
        "logs/eval_prompts/vicuna.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-prompts --benchmark vicuna --data {params.data} -o {output} > {log} 2>&1"


rule superni_prompts:
    input:
        tasks="resources/superni/tasks",
        split="resources/downloads/superni_test_tasks.txt",
    output:
        "results/eval/prompts/superni_{shots}shot.jsonl",
    params:
        options=tw.cli_options({"instances_per_task": SUPERNI.get("instances_per_task", 100)}),
    log:
        "logs/eval_prompts/superni_{shots}shot.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-prompts --benchmark superni --data {input.tasks} --tasks {input.split} --shots {wildcards.shots} "
        "{params.options} -o {output} > {log} 2>&1"


rule lmentry_prompts:
    input:
        "resources/lmentry/data",
    output:
        "results/eval/prompts/lmentry.jsonl",
    params:
        options=tw.cli_options({"limit_per_task": LMENTRY.get("limit_per_task")}),
    log:
        "logs/eval_prompts/lmentry.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-prompts --benchmark lmentry --data {input} {params.options} -o {output} > {log} 2>&1"


rule generate_answers:
    input:
        prompts="results/eval/prompts/{prompts}.jsonl",
        model=lambda w: provider_input(answer_spec(w.model)),
    output:
        answers="results/{model}/answers/{prompts}.jsonl",
        cost="results/{model}/answers/{prompts}.cost.json",
    params:
        max_tokens=lambda w: tw.answer_max_tokens(config, w.prompts),
        provider=lambda w: provider_args(answer_spec(w.model)),
        prices=lambda w: tw.price_args(config, answer_spec(w.model)),
    wildcard_constraints:
        model=tw.name_regex(EVAL_MODELS),
    log:
        "logs/generate_answers/{model}/{prompts}.log",
    threads: 2
    resources:
        api_calls=lambda w: int(answer_spec(w.model)["kind"] == "openai"),
        **tw.api_limits(config),
    conda:
        lambda w: conda_env(uses_gpu(answer_spec(w.model)))
    shell:
        "tuna generate-answers --prompts {input.prompts} --max-tokens {params.max_tokens} {params.provider} "
        "{params.prices} --concurrency {resources.api_concurrency} --rpm {resources.api_rpm} "
        "--tpm {resources.api_tpm} --timeout {resources.api_timeout} --max-retries {resources.api_max_retries} "
        "-o {output.answers} > {log} 2>&1"


rule judge_vicuna:
    input:
        answers="results/{model}/answers/vicuna.jsonl",
        baseline=f"results/{BASELINE}/answers/vicuna.jsonl",
        questions=[VICUNA["questions"]] if VICUNA["questions"] else [],
        judge_prompts=[VICUNA["judge_prompts"]] if VICUNA["judge_prompts"] else [],
        judge=provider_input(VICUNA_JUDGE),
    output:
        result=report(
            "results/{model}/vicuna.json", caption="../report/vicuna.rst", category="Results", subcategory="{model}"
        ),
        judgements="results/{model}/vicuna_judgements.jsonl",
        cost="results/{model}/vicuna.cost.json",
    params:
        questions=lambda w, input: input.questions[0] if input.questions else "demo",
        judge_prompts=lambda w, input: input.judge_prompts[0] if input.judge_prompts else "demo",
        judging=tw.cli_options({
            "baseline_name": BASELINE,
            "style": VICUNA["style"],
            **{key: config["judge"][key] for key in ("max_tokens", "retries", "constrained") if key in config["judge"]},
        }),
        provider=provider_args(VICUNA_JUDGE),
        prices=tw.price_args(config, VICUNA_JUDGE),
    wildcard_constraints:
        model=tw.name_regex([m for m in EVAL_MODELS if m != BASELINE]),
    log:
        "logs/judge_vicuna/{model}.log",
    threads: 2
    resources:
        api_calls=int(VICUNA_JUDGE["kind"] == "openai"),
        **tw.api_limits(config),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna judge-vicuna --questions {params.questions} --judge-prompts {params.judge_prompts} "
        "--answers {input.answers} --baseline-answers {input.baseline} --model-name {wildcards.model} "
        "{params.judging} {params.provider} {params.prices} --concurrency {resources.api_concurrency} "
        "--rpm {resources.api_rpm} --tpm {resources.api_tpm} --timeout {resources.api_timeout} "
        "--max-retries {resources.api_max_retries} -o {output.result} --judgements {output.judgements} "
        "> {log} 2>&1"


rule eval_superni:
    input:
        tasks="resources/superni/tasks",
        split="resources/downloads/superni_test_tasks.txt",
        answers=expand("results/{{model}}/answers/superni_{shots}shot.jsonl", shots=SUPERNI_SHOTS),
    output:
        report(
            "results/{model}/superni.json", caption="../report/superni.rst", category="Results", subcategory="{model}"
        ),
    params:
        answers=lambda w, input: " ".join(f"--answers {s}={a}" for s, a in zip(SUPERNI_SHOTS, input.answers)),
        options=tw.cli_options({"instances_per_task": SUPERNI.get("instances_per_task", 100)}),
    wildcard_constraints:
        model=tw.name_regex(EVAL_MODELS),
    log:
        "logs/eval_superni/{model}.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-superni --tasks-dir {input.tasks} --tasks {input.split} {params.answers} {params.options} "
        "--model-name {wildcards.model} -o {output} > {log} 2>&1"


rule eval_lmentry:
    input:
        data="resources/lmentry/data",
        answers="results/{model}/answers/lmentry.jsonl",
    output:
        report(
            "results/{model}/lmentry.json", caption="../report/lmentry.rst", category="Results", subcategory="{model}"
        ),
    params:
        options=tw.cli_options({"limit_per_task": LMENTRY.get("limit_per_task")}),
    wildcard_constraints:
        model=tw.name_regex(EVAL_MODELS),
    log:
        "logs/eval_lmentry/{model}.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-lmentry --data {input.data} --answers {input.answers} {params.options} "
        "--model-name {wildcards.model} -o {output} > {log} 2>&1"
