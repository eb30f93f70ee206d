"""Training commands: a ranking objective (Tuna's Eq. 4-6, RRHF, ListMLE, DPO, SimPO) or plain
instruction tuning (Eq. 2), and DPO's frozen reference log-probs.

Runnable as a module so the `deepspeed` launcher can start one rank per GPU:
`deepspeed --num_gpus 8 --module tuna.cli.train --init ... --deepspeed zero3`.
"""

from __future__ import annotations

from pathlib import Path

import click

from tuna.cli.options import (
    DIR,
    FILE,
    local_rank_option,
    out_dir_option,
    out_option,
    resume_options,
    section_options,
)
from tuna.config.settings import REFERENCE_KEYS, TEMPLATES, Train


@click.command("train")
@click.option("--init", type=DIR, required=True,
              help="Checkpoint directory to start from (transformers format).")
@click.option("--data", type=FILE, required=True,
              help="Ranking jsonl (candidates best first + original), or instruction jsonl for --objective mle.")
@out_dir_option("Checkpoint directory to write (safetensors + tokenizer + provenance.json).")
@click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
              help="Prompt format the model was tuned with (chat: the tokenizer's chat template).")
@section_options(Train)
@resume_options
@click.option("--held-out", type=FILE, default=None,
              help="Instruction jsonl of the held-out split (prepare-data --held-out-out): its ids are never "
                   "trained on (counted in the log and provenance).")
@click.option("--reference", type=FILE, default=None,
              help="Objective dpo: the frozen reference's log-probs of the candidates (made by `tuna reference` "
                   "from INIT and DATA).")
@click.option("--wandb-project", default=None,
              help="Also log the step metrics to this Weights & Biases project (needs `pip install wandb`).")
@local_rank_option
def train(init: Path, data: Path, out: Path, template: str, state_dir: Path | None, resume: bool,
          held_out: Path | None, reference: Path | None, wandb_project: str | None, local_rank: int | None,
          **settings):
    """Fine-tune INIT on ranked responses (--objective rank: Tuna, Eq. 4-6; rrhf, listmle, dpo,
    simpo) or instruction data (--objective mle).

    Each example is one packed sequence [prompt, r0, r1, ..., original] with a block
    attention mask, so the prompt is encoded once per example. Bad data is skipped or
    truncated by documented rules with counts in the log. On CPU this is plain torch in
    fp32; on GPUs start it with the `deepspeed` launcher and --deepspeed zero2|zero3.
    Each step's metrics are logged and saved in OUT as metrics.jsonl, metrics.csv and
    TensorBoard events (live in the state directory while training).
    """
    from tuna.train.trainer import train as run

    run(init, data, out, template, Train(**settings), state_dir=state_dir, resume=resume, held_out=held_out,
        wandb_project=wandb_project, reference=reference)


@click.command("reference")
@click.option("--init", type=DIR, required=True,
              help="The checkpoint DPO trains from, frozen as its reference (transformers format).")
@click.option("--data", type=FILE, required=True, help="The ranking jsonl the model trains on.")
@out_option("Reference log-probs jsonl to write (read by `tuna train --reference`).")
@click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
              help="Prompt format the model was tuned with.")
@click.option("--held-out", type=FILE, default=None,
              help="Instruction jsonl of the held-out split: its ids are not trained on, so not scored.")
@section_options(Train, only=REFERENCE_KEYS)
def reference(init: Path, data: Path, out: Path, template: str, held_out: Path | None, **settings):
    """DPO's frozen reference: INIT's summed log-prob of every candidate `tuna train` will
    train on (the same examples, tokenized alike: give the training's options), computed
    once without gradients by the packed forward, so the reference model is never held
    beside the trained one.
    """
    from tuna.train.reference import write_reference

    click.echo(write_reference(init, data, out, template, Train(**settings), held_out))


COMMANDS = [train, reference]

if __name__ == "__main__":
    train()
