"""Training command: the Tuna ranking objective (Eq. 4-6) or plain instruction tuning (Eq. 2).

Runnable as a module so the `deepspeed` launcher can start one rank per GPU:
`deepspeed --num_gpus 8 --module tuna.cli.train --init ... --deepspeed zero3`.
"""

from __future__ import annotations

from pathlib import Path

import click

from tuna.cli.options import DIR, FILE, local_rank_option, out_dir_option, resume_options, section_options
from tuna.config.settings import TEMPLATES, Train


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
@click.option("--wandb-project", default=None,
              help="Also log the step metrics to this Weights & Biases project (needs `pip install wandb`).")
@local_rank_option
def train(init: Path, data: Path, out: Path, template: str, state_dir: Path | None, resume: bool,
          held_out: Path | None, wandb_project: str | None, local_rank: int | None, **settings):
    """Fine-tune INIT on ranked responses (Tuna, Eq. 4-6) or instruction data (--objective mle).

    Each example is one packed sequence [prompt, r0, r1, ..., original] with a block
    attention mask, so the prompt is encoded once per example. Bad data is skipped or
    truncated by documented rules with counts in the log. On CPU this is plain torch in
    fp32; on GPUs start it with the `deepspeed` launcher and --deepspeed zero2|zero3.
    Each step's metrics are logged and saved in OUT as metrics.jsonl, metrics.csv and
    TensorBoard events (live in the state directory while training).
    """
    from tuna.train.trainer import train as run

    run(init, data, out, template, Train(**settings), state_dir=state_dir, resume=resume, held_out=held_out,
        wandb_project=wandb_project)


COMMANDS = [train]

if __name__ == "__main__":
    train()
