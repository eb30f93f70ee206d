"""Contextual ranking commands: self-sample, judge, gather ranks, proxy ranking model."""

from __future__ import annotations

from pathlib import Path

import click

from tuna import provenance
from tuna.cli.options import provider_options, section_options, shard_option
from tuna.config.settings import Judge, Sampling
from tuna.errors import TunaError
from tuna.records import Ranking, read_jsonl

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, path_type=Path)
first_option = click.option("--first", type=click.IntRange(min=0), default=None,
                            help="Use only the first K instructions (the paper judged 13K of 52K).")
held_out_option = click.option("--held-out", type=FILE, default=None,
                               help="With --first: also the instructions of this held-out split beyond the first K "
                                    "(ranked for the held-out agreement; never trained on).")


@click.command("sample")
@click.option("--instructions", type=FILE, required=True, help="Instruction records (jsonl).")
@shard_option
@first_option
@held_out_option
@section_options(Sampling, exclude=("provider",))
@provider_options
@click.option("-o", "--out", type=OUT, required=True,
              help="Samples of this shard (jsonl of generations); usage and cost go to OUT stem + .cost.json.")
def sample(instructions, shard, first, held_out, out, **options):
    """Draw N mutually dissimilar responses of the model itself per instruction (Sec. 2.3).

    A draw whose ROUGE-L F1 with a kept sample reaches --tau is redrawn at a higher
    temperature; after --max-trials draws, the least similar one is kept. Trials,
    temperatures and the final pairwise ROUGE-L matrix are recorded. Failed draws are
    kept and marked (never ranked) unless more fail than --max-failed allows.
    """
    from tuna import stages

    settings = Sampling(**{key: options.pop(key) for key in list(options) if key in Sampling.model_fields})
    click.echo(stages.sample(instructions, shard, first, settings, out, options, held_out))


@click.command("judge")
@click.option("--instructions", type=FILE, required=True, help="Instruction records (jsonl).")
@click.option("--samples", type=FILE, required=True, help="Self samples of one shard (from `tuna sample`).")
@first_option
@held_out_option
@section_options(Judge, exclude=("provider",))
@click.option("--seed", type=int, default=0, show_default=True)
@provider_options
@click.option("-o", "--out", type=OUT, required=True,
              help="Judgements (jsonl): every attempt, the one used, scores, rank; usage and cost go to OUT stem "
                   "+ .cost.json.")
@click.option("--quarantine", type=OUT, required=True,
              help="Every unusable judge answer, one per line with its instruction id and attempt (jsonl).")
def judge(instructions, samples, first, held_out, max_tokens, retries, constrained, seed, out, quarantine,
          **provider_opts):
    """Rank each instruction's samples with a judge LLM and the paper's Table 9 prompt.

    The judge answers at temperature 0; answers without a valid ranking are re-asked.
    OUT keeps every attempt of every instruction (raw text, parse outcome,
    temperature) and which one was used; every unusable answer also goes to
    --quarantine. A failed call is not re-asked (a rerun asks it again).
    """
    from tuna import stages

    settings = Judge(max_tokens=max_tokens, retries=retries, constrained=constrained)
    click.echo(stages.judge(instructions, samples, first, settings, seed, out, quarantine, provider_opts, held_out))


@click.command("ctx-rank")
@click.option("--instructions", type=FILE, required=True, help="Instruction records (jsonl).")
@click.option("--samples", type=FILE, multiple=True, required=True, help="Self-sample shards (repeat).")
@click.option("--judged", type=FILE, multiple=True, required=True, help="Judgement shards (repeat).")
@click.option("-o", "--out", type=OUT, required=True, help="Training-ready rankings (jsonl).")
def ctx_rank(instructions, samples, judged, out):
    """Gather judged shards into training-ready rankings (samples in the judge's order).

    Judgements without a usable answer and failed or empty samples are left out and
    counted (in the log and the provenance stamp).
    """
    from tuna import stages

    click.echo(stages.ctx_rank(instructions, list(samples), list(judged), out))


@click.command("prm-train")
@click.option("--ranked", type=FILE, required=True, help="Judge rankings to learn (from `tuna ctx-rank`).")
@click.option("--backbone", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Checkpoint the proxy ranker starts from (the paper: StableLM-3B, LLaMA-7B).")
@click.option("--template", type=click.Choice(["chat", "alpaca"]), default="chat", show_default=True)
@click.option("--lr", type=float, default=1e-5, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--max-length", type=click.IntRange(min=16), default=1024, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--held-out", type=FILE, default=None,
              help="Instruction jsonl of the held-out split: its ids are never trained on.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for the trained proxy ranking model.")
def prm_train(ranked, backbone, template, lr, epochs, max_length, seed, held_out, out):
    """Train a proxy ranking model (score head on a causal LM) on a judge's rankings."""
    from tuna.datasets import read_ids
    from tuna.ranking.prm import PRM
    from tuna.records import atomic_dir

    excluded = read_ids(held_out) if held_out else frozenset()
    everything = read_jsonl(ranked, Ranking)
    rankings = [r for r in everything if r.id not in excluded]
    if not any(len(r.candidates) >= 2 for r in rankings):
        raise TunaError(f"{ranked}: no ranking with two or more candidates to learn from")
    prm = PRM.from_backbone(backbone, template, max_length, seed)
    history = prm.train(rankings, lr=lr, epochs=epochs, seed=seed)
    with atomic_dir(out) as tmp:
        prm.save(tmp)
    provenance.stamp([out], inputs=[ranked, backbone, held_out], params={
        "lr": lr, "epochs": epochs, "max_length": max_length, "seed": seed, "template": template,
        "held_out": str(held_out) if held_out else None,
    }, extra={"epoch_loss": history, "held_out_rankings": len(everything) - len(rankings)})
    click.echo(f"{out}: pairwise loss by epoch {', '.join(f'{x:.4f}' for x in history)}")


@click.command("prm-rank")
@click.option("--prm", "prm_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--instructions", type=FILE, required=True, help="Instruction records (jsonl).")
@click.option("--samples", type=FILE, multiple=True, required=True, help="Self-sample shards (repeat).")
@click.option("--judged-ranked", type=FILE, required=True,
              help="The judge's rankings: the PRM ranks every other instruction.")
@click.option("-o", "--out", type=OUT, required=True,
              help="The PRM's rankings of the instructions the judge did not rank (jsonl, instruction order).")
def prm_rank(prm_dir, instructions, samples, judged_ranked, out):
    """Rank the samples the judge did not see with the proxy ranking model (Tuna_c(PRM) data).

    The output holds PRM ranks only; a model trains on judge + PRM ranks with the
    mixture `data: [ctx_rank:M, prm_rank:M]`. Failed or empty samples are left out.
    """
    from tuna import stages

    click.echo(stages.prm_rank(prm_dir, instructions, list(samples), judged_ranked, out))


COMMANDS = [sample, judge, ctx_rank, prm_train, prm_rank]
