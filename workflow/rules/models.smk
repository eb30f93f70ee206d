# Model import: a GGUF (dequantized; the GGUF kept for llama.cpp) or an HF directory, local
# or on the Hugging Face Hub, becomes checkpoints/{model}/, the form every later stage reads.
# A source that does not exist (yet) is still planned: the import job then fails naming the
# path to provide. A Hub model is planned at the commit its revision points to (the source
# param), so a moved branch re-imports.


rule import_model_gguf:
    input:
        import_source,
    output:
        checkpoint=directory(L.checkpoint("{model}")),
        gguf=L.gguf("{model}", "source"),
    params:
        code=code_of("import-model"),
        source=lambda w: pin(PLAN.models[w.model].import_),
    wildcard_constraints:
        model=names(PLAN.imported(gguf=True)),
    log:
        L.log("import_model_gguf/{model}"),
    threads: threads_of(JOBS.convert)
    resources:
        **resources_of(JOBS.convert),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna import-model {params.source:q} -o {output.checkpoint} --gguf-out {output.gguf} > {log} 2>&1"


rule import_model_hf:
    input:
        import_source,
    output:
        checkpoint=directory(L.checkpoint("{model}")),
    params:
        code=code_of("import-model"),
        source=lambda w: pin(PLAN.models[w.model].import_),
    wildcard_constraints:
        model=names(PLAN.imported(gguf=False)),
    log:
        L.log("import_model_hf/{model}"),
    threads: threads_of(JOBS.convert)
    resources:
        **resources_of(JOBS.convert),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna import-model {params.source:q} -o {output.checkpoint} > {log} 2>&1"
