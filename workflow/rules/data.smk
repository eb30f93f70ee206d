# Data preparation: upstream downloads (checksummed) and the normalized instructions.


rule download:
    output:
        L.download("{name}"),
    params:
        code=code_of("download"),
        url=lambda w: PLAN.downloads[w.name].url,
        checksum=lambda w: cli_options(PLAN.downloads[w.name].model_dump(include={"sha256", "git_sha1"})),
    wildcard_constraints:
        name=names(PLAN.downloads),
    log:
        "logs/download/{name}.log",
    resources:
        downloads=1,
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna download {params.url:q} {params.checksum} -o {output} > {log} 2>&1"


rule prepare_data:
    input:
        PLAN.instructions_source(),
    output:
        instructions=L.instructions(),
        held_out=L.held_out(),
    params:
        code=code_of("prepare-data"),
        source=lambda w, input: input[0] if input else "demo",
        options=cli_options(PLAN.config.data.model_dump(include={"limit", "held_out", "held_out_seed"})),
    log:
        L.log("prepare_data"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna prepare-data --source {params.source:q} {params.options} --held-out-out {output.held_out} "
        "-o {output.instructions} > {log} 2>&1"


rule mix_data:
    input:
        lambda w: [PLAN.set_file(part) for part in PLAN.models[w.model].data],
    output:
        L.train_data("{model}"),
    params:
        code=code_of("mix-data"),
        parts=lambda w: PLAN.mixture_args(w.model),
    wildcard_constraints:
        model=names(PLAN.mixtures()),
    log:
        L.log("mix_data/{model}"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna mix-data {params.parts} -o {output} > {log} 2>&1"


rule import_released_prob:
    input:
        lambda w: planned_input(PLAN.released_source("prob")),
    output:
        L.released("prob"),
    params:
        code=code_of("import-released"),
        source=lambda w: PLAN.released_source("prob"),
        beta=PLAN.config.scoring.beta,
    log:
        L.log("import_released_prob"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna import-released --kind prob {params.source:q} --beta {params.beta} -o {output} > {log} 2>&1"


use rule import_released_prob as import_released_prob_beta with:
    output:
        L.released("prob", "_beta{beta}"),
    params:
        code=code_of("import-released"),
        source=lambda w: PLAN.released_source("prob"),
        beta="{beta}",
    wildcard_constraints:
        beta=names(PLAN.scoring_betas("released_prob").values()),
    log:
        L.log("import_released_prob_beta/{beta}"),


rule import_released_judge:
    input:
        released=lambda w: planned_input(PLAN.released_source("judge")),
        instructions=L.instructions(),
    output:
        ranked=L.released("judge"),
        judgements=L.released_judgements(),
    params:
        code=code_of("import-released"),
        source=lambda w: PLAN.released_source("judge"),
    log:
        L.log("import_released_judge"),
    resources:
        **LIGHT.resources(),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna import-released --kind judge {params.source:q} --instructions {input.instructions} "
        "--judgements {output.judgements} -o {output.ranked} > {log} 2>&1"
