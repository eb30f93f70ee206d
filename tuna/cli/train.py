"""Training command: the Tuna ranking objective (Eq. 4-6) or plain instruction tuning (Eq. 2).

Runnable as a module so the `deepspeed` launcher can start one rank per GPU:
`deepspeed --num_gpus 8 --module tuna.cli.train --init ... --deepspeed zero3`.
"""

from __future__ import annotations

from pathlib import Path

import click

from tuna.prompts import TEMPLATES
from tuna.train.settings import MLE_TARGETS, OBJECTIVES, PRECISIONS, RANK_REDUCTIONS, Settings

@click.command("train")
@click.option("--init", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Checkpoint directory to start from (transformers format).")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Ranking jsonl (candidates best first + original), or instruction jsonl for --objective mle.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Checkpoint directory to write (safetensors + tokenizer + provenance.json).")
@click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
              help="Prompt format the model was tuned with (chat: the tokenizer's chat template).")
@click.option("--objective", type=click.Choice(OBJECTIVES), default=Settings.objective, show_default=True,
              help="rank: L_rank + lambda * L_MLE (Eq. 6); mle: plain instruction tuning (Eq. 2).")
@click.option("--margin", type=float, default=Settings.margin, show_default=True, help="m of Eq. 4 (per rank of distance).")
@click.option("--mle-weight", type=float, default=Settings.mle_weight, show_default=True, help="lambda of Eq. 6.")
@click.option("--rank-reduction", type=click.Choice(RANK_REDUCTIONS), default=Settings.rank_reduction, show_default=True,
              help="sum over pairs (Eq. 4) or gap_mean: mean within each rank gap, summed (released code).")
@click.option("--mle-target", type=click.Choice(MLE_TARGETS), default=Settings.mle_target, show_default=True,
              help="MLE on the original response (Eq. 6) or on all candidates and the original (released code).")
@click.option("--lr", type=float, default=Settings.lr, show_default=True, help="Peak learning rate of AdamW (0.9, 0.999).")
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True), default=Settings.epochs, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=Settings.batch_size, show_default=True,
              help="Effective batch: micro-batch x accumulation x ranks.")
@click.option("--micro-batch-size", type=click.IntRange(min=1), default=Settings.micro_batch_size, show_default=True,
              help="Examples per forward pass on each rank.")
@click.option("--warmup-steps", type=click.IntRange(min=0), default=Settings.warmup_steps, show_default=True,
              help="Linear warmup steps, then linear decay to 0.")
@click.option("--weight-decay", type=click.FloatRange(min=0), default=Settings.weight_decay, show_default=True)
@click.option("--max-length", type=click.IntRange(min=16), default=Settings.max_length, show_default=True,
              help="Longest prompt + response (+ EOS) in tokens; longer responses are cut (counted in the log).")
@click.option("--max-examples", type=click.IntRange(min=1), default=Settings.max_examples,
              help="Train on the first K usable examples of --data (in file order, after the bad-data rules, "
                   "before shuffling) [default: all]; for data-amount sweeps.")
@click.option("--seed", type=int, default=Settings.seed, show_default=True, help="Data order and initialisation seed.")
@click.option("--precision", type=click.Choice(PRECISIONS), default=Settings.precision, show_default=True,
              help="fp32 on CPUs; bf16 (autocast, or DeepSpeed) on GPUs that have it; fp16 with DeepSpeed only.")
@click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=Settings.gradient_checkpointing, show_default=True,
              help="Recompute activations in backward: less memory, ~30% more compute.")
@click.option("--deepspeed", default=None,
              help="Run as one rank of a `deepspeed` launch with this ZeRO config: zero2, zero2_offload, zero3, "
                   "zero3_offload (shipped) or a JSON file.")
@click.option("--save-every", type=click.IntRange(min=0), default=Settings.save_every, show_default=True,
              help="Save resumable state every K optimizer steps (0: never).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where resumable state goes [default: OUT.state]; deleted after a successful run.")
@click.option("--resume", is_flag=True, help="Continue from the state in --state-dir, if there is one.")
@click.option("--local_rank", "local_rank", type=int, default=None, hidden=True,
              help="Set by the deepspeed launcher (the rank also comes from LOCAL_RANK).")
def train(init: Path, data: Path, out: Path, template: str, state_dir: Path | None, resume: bool,
          local_rank: int | None, **settings):
    """Fine-tune INIT on ranked responses (Tuna, Eq. 4-6) or instruction data (--objective mle).

    Each example is one packed sequence [prompt, r0, r1, ..., original] with a block
    attention mask, so the prompt is encoded once per example. Bad data is skipped or
    truncated by documented rules with counts in the log. On CPU this is plain torch in
    fp32; on GPUs start it with the `deepspeed` launcher and --deepspeed zero2|zero3.
    """
    from tuna.train.trainer import train as run

    run(init, data, out, template, Settings(**settings), state_dir=state_dir, resume=resume)


COMMANDS = [train]

if __name__ == "__main__":
    train()
