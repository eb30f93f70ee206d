# Data preparation: upstream downloads (checksummed) and the normalized instructions.


rule download:
    output:
        "resources/downloads/{name}",
    params:
        url=lambda w: DOWNLOADS[w.name]["url"],
        checksum=lambda w: " ".join(
            f"--{key.replace('_', '-')} {DOWNLOADS[w.name][key]}"
            for key in ("sha256", "git_sha1")
            if key in DOWNLOADS[w.name]
        ),
    wildcard_constraints:
        name="|".join(re.escape(name) for name in DOWNLOADS),
    log:
        "logs/download/{name}.log",
    resources:
        downloads=1,
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna download {params.url:q} {params.checksum} -o {output} > {log} 2>&1"


rule prepare_instructions:
    input:
        instructions_source,
    output:
        "results/data/instructions.jsonl",
    params:
        source=lambda w, input: input[0] if input else "demo",
        limit=f"--limit {config['data']['limit']}" if config["data"]["limit"] else "",
    log:
        "logs/prepare_instructions.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna prepare-data --source {params.source:q} "
        "{params.limit} "
        "-o {output} > {log} 2>&1"
