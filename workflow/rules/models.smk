# Model import: a GGUF (dequantized; the GGUF kept for llama.cpp) or an HF directory
# becomes checkpoints/{model}/, the form every later stage reads.


rule import_gguf_model:
    input:
        lambda w: str(resolve_source(config["models"][w.model]["import"])),
    output:
        checkpoint=directory("checkpoints/{model}"),
        gguf="checkpoints/{model}.source.gguf",
    params:
        source=lambda w: config["models"][w.model]["import"],
    wildcard_constraints:
        model=tw.name_regex(GGUF_MODELS),
    log:
        "logs/import_model/{model}.log",
    resources:
        mem_mb=4000,
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna import-model {input:q} -o {output.checkpoint} --gguf-out {output.gguf} > {log} 2>&1"


rule import_hf_model:
    input:
        lambda w: str(resolve_source(config["models"][w.model]["import"])),
    output:
        checkpoint=directory("checkpoints/{model}"),
    params:
        source=lambda w: config["models"][w.model]["import"],
    wildcard_constraints:
        model=tw.name_regex(HF_IMPORTED_MODELS),
    log:
        "logs/import_model/{model}.log",
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna import-model {input:q} -o {output.checkpoint} > {log} 2>&1"
