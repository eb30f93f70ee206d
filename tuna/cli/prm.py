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
    local_rank_option,
    out_dir_option,
    out_option,
    resume_options,
    section_options,
)
from tuna.config.settings import TEMPLATES, Prm


@click.command("prm-train")
@click.option("--ranked", type=FILE, required=True, help="Judge rankings to learn (from `tuna ctx-rank`).")
@click.option("--backbone", type=DIR, required=True,
              help="Checkpoint the proxy ranker starts from (the paper: StableLM-3B, LLaMA-7B).")
@click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
              help="Prompt format of the backbone (chat: the tokenizer's chat template).")
@section_options(Prm, exclude=("backbone", "rank_batch_size"))
@click.option("--held-out", type=FILE, default=None,
              help="Instruction jsonl of the held-out split: its ids are never trained on.")
@resume_options
@out_dir_option("Directory for the trained proxy ranking model (backbone, score head, tokenizer, metrics).")
@local_rank_option
def prm_train(ranked, backbone, template, held_out, state_dir, resume, out, local_rank, **settings):
    """Train a proxy ranking model (score head on a causal LM's backbone) on a judge's rankings.

    Runs through the backends of `tuna train`: plain torch on a CPU or one GPU, DeepSpeed
    ranks on several (start it with the `deepspeed` launcher and --deepspeed zero2|zero3),
    LoRA (--lora), precision, micro-batches, --save-every/--resume. One example is one
    judged instruction with all its responses, scored in one shared-prompt forward.
    """
    from tuna.ranking.prm_training import train

    history = train(backbone, ranked, out, template, Prm(backbone=str(backbone), **settings), held_out=held_out,
                    state_dir=state_dir, resume=resume)
    if history and history[0].get("loss") is not None:
        click.echo(f"{out}: {len(history)} steps, pairwise loss {history[0]['loss']:.4f} -> {history[-1]['loss']:.4f}")


@click.command("prm-rank")
@click.option("--prm", "prm_dir", type=DIR, required=True, help="A proxy ranking model (from `tuna prm-train`).")
@click.option("--instructions", type=FILE, required=True, help="Instruction records (jsonl).")
@click.option("--samples", type=FILE, multiple=True, required=True, help="Self-sample shards (repeat).")
@click.option("--slice", "part", default="all", show_default=True,
              help="Which instructions to rank, by position in --instructions: all, first:K, last:K or range:A:B "
                   "(the paper: all 52K for Tuna_c (PRM-3B-52K), the last 39K for the -39K models).")
@field_option(Prm, "rank_batch_size", flag="--batch-size")
@field_option(Prm, "precision", help="Weights of the ranker while scoring (bf16 or fp16 on a GPU).")
@out_option("The PRM's rankings (jsonl, instruction order).")
def prm_rank(prm_dir, instructions, samples, part, batch_size, precision, out):
    """Rank self samples with a proxy ranking model (the data of Tuna_c (PRM) and Appendix D).

    Scores every response of --batch-size instructions per forward pass, without
    gradients, on CUDA when there is a GPU. The output holds PRM ranks only, of every
    sampled instruction in --slice (the judged ones too: Tuna_c (PRM-3B-52K) learns
    from PRM ranks alone); a model mixes them with the judge's by the data algebra,
    e.g. `data: [ctx_rank:M, {set: prm_rank:M, last: 39000}]`. Failed or empty samples
    are left out (counted).
    """
    from tuna.ranking.prm import rank_file

    click.echo(rank_file(prm_dir, instructions, list(samples), out, part, batch_size, precision))


COMMANDS = [prm_train, prm_rank]

if __name__ == "__main__":
    prm_train()
