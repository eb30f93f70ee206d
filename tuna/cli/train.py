"""Training commands: a ranking objective (Tuna's Eq. 4-6, RRHF, ListMLE, DPO, SimPO) or plain
instruction tuning (Eq. 2), and DPO's frozen reference log-probs.

Runnable as a module so the `deepspeed` launcher can start one rank per GPU:
`deepspeed --num_gpus 8 --module tuna.cli.train --init ... --deepspeed zero3`.
"""

from __future__ import annotations

import click

from tuna.cli.options import DIR, FILE, held_out_option, out_option, section_options, template_option, training_options
from tuna.config.settings import REFERENCE_KEYS, Train

init_option = click.option("--init", type=DIR, required=True, help="Checkpoint to start from (transformers format).")


@click.command("train", short_help="Fine-tune on rankings (Tuna's loss, DPO, ...) or MLE.")
@init_option
@click.option("--data", type=FILE, required=True,
              help="Ranking jsonl (candidates best first + original), or instruction jsonl for --objective mle.")
@out_option("Checkpoint directory to write (safetensors + tokenizer + provenance.json).", directory=True)
@template_option
@section_options(Train)
@training_options
@click.option("--reference", type=FILE, default=None,
              help="Objective dpo: the frozen reference's log-probs of the candidates (`tuna reference`).")
@click.option("--wandb-project", default=None,
              help="Also log the step metrics to this Weights & Biases project (needs `pip install wandb`).")
def train(init, data, out, template, state_dir, resume, held_out, reference, wandb_project, local_rank, **settings):
    """Fine-tune INIT on ranked responses (--objective rank: Tuna, Eq. 4-6; rrhf, listmle, dpo,
    simpo) or instruction data (--objective mle), each example one packed sequence [prompt, r0,
    r1, ..., original]. On GPUs start it with the `deepspeed` launcher and --deepspeed
    zero2|zero3. Step metrics go to OUT (metrics.jsonl, metrics.csv, TensorBoard)."""
    from tuna.train.trainer import train as run

    run(init, data, out, template, Train(**settings), state_dir=state_dir, resume=resume, held_out=held_out,
        wandb_project=wandb_project, reference=reference)


@click.command("reference", short_help="DPO's frozen reference log-probs.")
@init_option
@click.option("--data", type=FILE, required=True, help="The ranking jsonl the model trains on.")
@out_option("Reference log-probs jsonl to write (read by `tuna train --reference`).")
@template_option
@held_out_option
@section_options(Train, only=REFERENCE_KEYS)
def reference(init, data, out, template, held_out, **settings):
    """DPO's frozen reference: INIT's summed log-prob of every candidate `tuna train` will train on
    (give the training's options), computed once, so it is never held beside the trained model."""
    from tuna.train.reference import write_reference

    click.echo(write_reference(init, data, out, template, Train(**settings), held_out))


COMMANDS = [train, reference]

if __name__ == "__main__":
    train()
