# Evaluation (Sec. 3): benchmark prompts, greedy answers of every evaluated model, scores
# (Super-NI, LMentry) and Vicuna QA judged against the baseline; the report is report.smk.


EVAL = PLAN.config.evaluation
BASELINE = PLAN.baseline
VICUNA_FILES = PLAN.vicuna_files()
SUPERNI_OPTIONS = cli_options({"instances_per_task": EVAL.superni.instances_per_task})
LMENTRY_OPTIONS = cli_options({"limit_per_task": EVAL.lmentry.limit_per_task})


wildcard_constraints:
    prompts=names(["vicuna", "lmentry", *(superni_set(k) for k in SUPERNI_SHOTS)]),
    shots=names(SUPERNI_SHOTS),


rule fetch_superni:
    input:
        L.download("superni_test_tasks.txt"),
    output:
        directory(L.superni_tasks()),
    params:
        code=code_of("fetch-superni"),
    log:
        "logs/fetch_superni.log",
    resources:
        downloads=1,
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna fetch-superni --tasks {input} -o {output} > {log} 2>&1"


rule fetch_lmentry:
    output:
        directory(L.lmentry_data()),
    params:
        code=code_of("fetch-lmentry"),
    log:
        "logs/fetch_lmentry.log",
    resources:
        downloads=1,
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna fetch-lmentry -o {output} > {log} 2>&1"


rule eval_prompts_vicuna:
    input:
        optional(VICUNA_FILES["questions"]),
    output:
        L.eval_prompts("vicuna"),
    params:
        code=code_of("eval-prompts"),
        data=lambda w, input: input[0] if input else "demo",
    log:
        L.log("eval_prompts_vicuna"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-prompts --benchmark vicuna --data {params.data} -o {output} > {log} 2>&1"


rule eval_prompts_superni:
    input:
        tasks=L.superni_tasks(),
        split=L.download("superni_test_tasks.txt"),
        tokenizer=lambda w: superni_tokenizer(w.model)[1],
    output:
        L.model_prompts("{model}", superni_set("{shots}")),
    params:
        code=code_of("eval-prompts"),
        tokenizer=lambda w: superni_tokenizer(w.model)[0],
        options=cli_options({"instances_per_task": EVAL.superni.instances_per_task,
                             "max_source_length": EVAL.superni.max_source_length}),
    wildcard_constraints:
        model=names(PLAN.eval_models),
    log:
        L.log("eval_prompts_superni/{model}/{shots}shot"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-prompts --benchmark superni --data {input.tasks} --tasks {input.split} --shots {wildcards.shots} "
        "--tokenizer {params.tokenizer} {params.options} -o {output} > {log} 2>&1"


rule eval_prompts_lmentry:
    input:
        L.lmentry_data(),
    output:
        L.eval_prompts("lmentry"),
    params:
        code=code_of("eval-prompts"),
        options=LMENTRY_OPTIONS,
    log:
        L.log("eval_prompts_lmentry"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-prompts --benchmark lmentry --data {input} {params.options} -o {output} > {log} 2>&1"


rule generate_answers:
    input:
        prompts=prompt_file,
        model=lambda w: PLAN.answerer(w.model).inputs,
    output:
        answers=L.answers("{model}", "{prompts}"),
        cost=cost_of(L.answers("{model}", "{prompts}")),
    params:
        code=code_of("generate-answers"),
        max_tokens=lambda w: PLAN.answer_max_tokens(w.prompts),
        provider=lambda w: PLAN.answerer(w.model).args(),
    wildcard_constraints:
        model=names(PLAN.eval_models),
    log:
        L.log("generate_answers/{model}/{prompts}"),
    benchmark:
        L.benchmark("generate_answers/{model}/{prompts}"),
    threads: threads_of(JOBS.answerer)
    resources:
        api_calls=lambda w: int(PLAN.answerer(w.model).is_api),
        **API_LIMITS,
        **resources_of(JOBS.answerer),
    conda:
        lambda w: conda_env(PLAN.answerer(w.model).uses_gpu)
    shell:
        "tuna generate-answers --prompts {input.prompts} --max-tokens {params.max_tokens} {params.provider} "
        f"{API_OPTIONS} -o {{output.answers}} > {{log}} 2>&1"


rule judge_vicuna:
    input:
        answers=L.answers("{model}", "vicuna"),
        baseline=L.answers(BASELINE, "vicuna"),
        questions=optional(VICUNA_FILES["questions"]),
        judge_prompts=optional(VICUNA_FILES["judge_prompts"]),
        judge=lambda w: PLAN.vicuna_judge().inputs,
    output:
        result=report(L.result("{model}", "vicuna"), caption="../report/vicuna.rst", category="Results",
                      subcategory="{model}"),
        judgements=L.vicuna_judgements("{model}"),
        cost=cost_of(L.result("{model}", "vicuna")),
    params:
        code=code_of("judge-vicuna"),
        questions=lambda w, input: input.questions[0] if input.questions else "demo",
        judge_prompts=lambda w, input: input.judge_prompts[0] if input.judge_prompts else "demo",
        judging=cli_options({
            "baseline_name": BASELINE,
            "style": EVAL.vicuna.style,
            "orders": EVAL.vicuna.orders,
            **PLAN.config.judge.model_dump(exclude={"provider", "system_prompt"}),
        }),
        provider=lambda w: PLAN.vicuna_judge().args(),
    wildcard_constraints:
        model=names(PLAN.judged_models()),
    log:
        L.log("judge_vicuna/{model}"),
    benchmark:
        L.benchmark("judge_vicuna/{model}"),
    threads: threads_of(JOBS.vicuna_judge)
    resources:
        api_calls=lambda w: int(PLAN.vicuna_judge().is_api),
        **API_LIMITS,
        **resources_of(JOBS.vicuna_judge),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna judge-vicuna --questions {params.questions} --judge-prompts {params.judge_prompts} "
        "--answers {input.answers} --baseline-answers {input.baseline} --model-name {wildcards.model} "
        f"{{params.judging}} {{params.provider}} {API_OPTIONS} -o {{output.result}} "
        "--judgements {output.judgements} > {log} 2>&1"


rule eval_superni:
    input:
        tasks=L.superni_tasks(),
        split=L.download("superni_test_tasks.txt"),
        answers=[L.answers("{model}", superni_set(shots)) for shots in EVAL.superni.shots],
    output:
        report(L.result("{model}", "superni"), caption="../report/superni.rst", category="Results",
               subcategory="{model}"),
    params:
        code=code_of("eval-superni"),
        answers=lambda w, input: " ".join(f"--answers {s}={a}" for s, a in zip(EVAL.superni.shots, input.answers)),
        options=SUPERNI_OPTIONS,
        bertscore=cli_options({"bertscore_model": EVAL.superni.bertscore_model,
                               "bertscore_layers": EVAL.superni.bertscore_layers}),
    wildcard_constraints:
        model=names(PLAN.eval_models),
    log:
        L.log("eval_superni/{model}"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-superni --tasks-dir {input.tasks} --tasks {input.split} {params.answers} {params.options} "
        "{params.bertscore} --model-name {wildcards.model} -o {output} > {log} 2>&1"


rule eval_lmentry:
    input:
        data=L.lmentry_data(),
        answers=L.answers("{model}", "lmentry"),
    output:
        report(L.result("{model}", "lmentry"), caption="../report/lmentry.rst", category="Results",
               subcategory="{model}"),
    params:
        code=code_of("eval-lmentry"),
        options=LMENTRY_OPTIONS,
    wildcard_constraints:
        model=names(PLAN.eval_models),
    log:
        L.log("eval_lmentry/{model}"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna eval-lmentry --data {input.data} --answers {input.answers} {params.options} "
        "--model-name {wildcards.model} -o {output} > {log} 2>&1"
