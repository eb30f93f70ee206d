# llama.cpp export: checkpoints/{model}/ becomes checkpoints/{model}.{quant}.gguf for fast
# sampling (`quant: source` is the imported GGUF itself, made by the import rule).
from tuna.export import QUANTS as EXPORT_QUANTS


rule export:
    input:
        L.checkpoint("{model}"),
    output:
        L.gguf("{model}", "{quant}"),
    params:
        code=code_of("export"),
        quant="{quant}",
    wildcard_constraints:
        model=names(PLAN.models),
        quant=names(EXPORT_QUANTS),
    log:
        L.log("export/{model}.{quant}"),
    threads: threads_of(JOBS.convert)
    resources:
        **resources_of(JOBS.convert),
    conda:
        "../../envs/cpu.yaml"
    shell:
        "tuna export {input:q} --quant {params.quant} --threads {threads} -o {output:q} > {log} 2>&1"
