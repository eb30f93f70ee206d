# Training (Eq. 4-6, or Eq. 2 for objective mle): checkpoints/{model} from the model's
# init checkpoint and its training data (a data set, or the mixture mix_data builds).
# CPU (num_gpus 0) runs plain torch; GPUs run one DeepSpeed rank each. A killed job
# resumes from the state saved every `save_every` steps (deleted once training ends).
# No model trains on the held-out split (data.held_out); its step metrics are in the checkpoint.


rule train:
    input:
        init=lambda w: L.checkpoint(PLAN.models[w.model].init),
        data=lambda w: PLAN.train_input(w.model),
        held_out=L.held_out(),
    output:
        directory(L.checkpoint("{model}")),
    params:
        code=code_of("train"),
        launcher=lambda w: PLAN.train_launcher(w.model),
        template=lambda w: PLAN.template(w.model),
        training=lambda w: PLAN.train_options(w.model),
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
        "--template {params.template} {params.training} --held-out {input.held_out} --resume -o {output} > {log} 2>&1"
