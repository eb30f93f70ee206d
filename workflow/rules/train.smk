# Training (a ranking objective, or Eq. 2 for objective mle): checkpoints/{model} from the
# model's init checkpoint and its training data (a data set, or the mixture mix_data builds).
# CPU (num_gpus 0) runs plain torch; GPUs run one DeepSpeed rank each. A killed job
# resumes from the state saved every `save_every` steps (deleted once training ends).
# No model trains on the held-out split (data.held_out); its step metrics are in the checkpoint.
# Objective dpo learns against its init checkpoint's log-probs of the training candidates,
# made once by the reference rule (results/reference/{model}.jsonl) and reused by reruns.


rule reference:
    input:
        init=lambda w: L.checkpoint(PLAN.models[w.model].init),
        data=lambda w: PLAN.train_input(w.model),
        held_out=L.held_out(),
    output:
        L.reference("{model}"),
    params:
        code=code_of("reference"),
        template=lambda w: PLAN.template(w.model),
        options=lambda w: PLAN.reference_options(w.model),
    wildcard_constraints:
        model=names(PLAN.referenced()),
    log:
        L.log("reference/{model}"),
    benchmark:
        L.benchmark("reference/{model}"),
    threads: threads_of(JOBS.reference)
    resources:
        **resources_of(JOBS.reference),
    conda:
        lambda w: conda_env(PLAN.train(w.model).num_gpus > 0)
    shell:
        "OMP_NUM_THREADS={threads} tuna reference --init {input.init} --data {input.data} "
        "--template {params.template} {params.options} --held-out {input.held_out} -o {output} > {log} 2>&1"


rule train:
    input:
        init=lambda w: L.checkpoint(PLAN.models[w.model].init),
        data=lambda w: PLAN.train_input(w.model),
        held_out=L.held_out(),
        reference=lambda w: [L.reference(w.model)] if w.model in PLAN.referenced() else [],
    output:
        directory(L.checkpoint("{model}")),
    params:
        code=code_of("train"),
        launcher=lambda w: PLAN.train_launcher(w.model),
        template=lambda w: PLAN.template(w.model),
        training=lambda w: PLAN.train_options(w.model),
        reference=lambda w, input: f"--reference {input.reference}" if input.reference else "",
    wildcard_constraints:
        model=names(PLAN.trained()),
    log:
        L.log("train/{model}"),
    benchmark:
        L.benchmark("train/{model}"),
    threads: threads_of(JOBS.train)
    resources:
        **resources_of(JOBS.train),
    conda:
        lambda w: conda_env(PLAN.train(w.model).num_gpus > 0)
    shell:
        "OMP_NUM_THREADS={threads} {params.launcher} --init {input.init} --data {input.data} "
        "--template {params.template} {params.training} --held-out {input.held_out} {params.reference} --resume "
        "-o {output} > {log} 2>&1"
