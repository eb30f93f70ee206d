# Training (Eq. 4-6, or Eq. 2 for objective mle): checkpoints/{model} from the model's
# init checkpoint and the ranked data its `data:` names. CPU (num_gpus 0) runs plain
# torch; GPUs run one DeepSpeed rank each. A killed job resumes from the state saved
# every `save_every` steps in checkpoints/{model}.state (deleted once training ends).


rule train:
    input:
        init=lambda w: f"checkpoints/{config['models'][w.model]['init']}",
        data=lambda w: tw.train_data(config, w.model),
    output:
        directory("checkpoints/{model}"),
    params:
        launcher=lambda w: tw.train_launcher(tw.train_settings(config, w.model), w.model),
        template=lambda w: tw.model_template(config, w.model),
        training=lambda w: tw.train_options(tw.train_settings(config, w.model)),
    wildcard_constraints:
        model=tw.name_regex(TRAINED_MODELS),
    log:
        "logs/train/{model}.log",
    threads: 8
    resources:
        gpu=lambda w: tw.train_settings(config, w.model)["num_gpus"],
        mem_mb=8000,
    conda:
        lambda w: conda_env(tw.train_settings(config, w.model)["num_gpus"] > 0)
    shell:
        "OMP_NUM_THREADS={threads} {params.launcher} --init {input.init} --data {input.data} "
        "--template {params.template} {params.training} --resume -o {output} > {log} 2>&1"
