"""Proxy ranking model commands (Sec. 2.4): train one on a judge's ranks, rank what the judge did not see.

Runnable as a module so the `deepspeed` launcher can start one training rank per GPU:
`deepspeed --num_gpus 8 --module tuna.cli.prm --ranked ... --deepspeed zero3`.
"""

from __future__ import annotations

import click

from tuna.cli.options import (
    DIR,
    FILE,
    field_option,
    instructions_option,
    out_option,
    samples_option,
    section_options,
    template_option,
    training_options,
)
from tuna.config.settings import Prm


@click.command("prm-train", short_help="Train a proxy ranking model on a judge's ranks.")
@click.option("--ranked", type=FILE, required=True, help="Judge rankings to learn (from `tuna ctx-rank`).")
@click.option("--backbone", type=DIR, required=True,
              help="Checkpoint the proxy ranker starts from (the paper: StableLM-3B, LLaMA-7B).")
@template_option
@section_options(Prm, exclude=("backbone", "rank_batch_size"))
@training_options
@out_option("Directory for the proxy ranking model (backbone, score head, tokenizer, metrics).", directory=True)
def prm_train(ranked, backbone, template, held_out, state_dir, resume, out, local_rank, **settings):
    """Train a proxy ranking model (a score head on a causal LM) on a judge's rankings, through the
    backends of `tuna train` (plain torch, DeepSpeed ranks, LoRA, --save-every/--resume). One
    example is one judged instruction with all its responses, in one shared-prompt forward.
    """
    from tuna.ranking.prm_training import train

    history = train(backbone, ranked, out, template, Prm(backbone=str(backbone), **settings), held_out=held_out,
                    state_dir=state_dir, resume=resume)
    if history and history[0].get("loss") is not None:
        click.echo(f"{out}: {len(history)} steps, pairwise loss {history[0]['loss']:.4f} -> {history[-1]['loss']:.4f}")


@click.command("prm-rank", short_help="Rank self samples with a proxy ranking model.")
@click.option("--prm", "prm_dir", type=DIR, required=True, help="A proxy ranking model (from `tuna prm-train`).")
@instructions_option
@samples_option
@click.option("--slice", "part", default="all", show_default=True,
              help="Which instructions to rank, by position: all, first:K, last:K or range:A:B (the paper: all 52K "
                   "for Tuna_c (PRM-3B-52K), the last 39K for the -39K models).")
@field_option(Prm, "rank_batch_size", flag="--batch-size")
@field_option(Prm, "precision", help="Weights of the ranker while scoring (bf16 or fp16 on a GPU).")
@out_option("The PRM's rankings (jsonl, instruction order).")
def prm_rank(prm_dir, instructions, samples, part, batch_size, precision, out):
    """Rank self samples with a proxy ranking model (Tuna_c (PRM), Appendix D), --batch-size
    instructions per forward, on CUDA when there is one: PRM ranks only, of every instruction in
    --slice (a config mixes them with the judge's: `data: [ctx_rank:M, {set: prm_rank:M, last: 39000}]`)."""
    from tuna.ranking.prm import rank_file

    click.echo(rank_file(prm_dir, instructions, list(samples), out, part, batch_size, precision))


COMMANDS = [prm_train, prm_rank]

if __name__ == "__main__":
    prm_train()
