"""Contextual ranking commands: self-sample, judge, gather ranks (the proxy ranking model: tuna.cli.prm)."""

from __future__ import annotations

import click

from tuna.cli.options import FILE, OUT, out_option, section_options, shard_option
from tuna.cli.provider import provider_options
from tuna.config.settings import Judge, Sampling

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
@section_options(Sampling, exclude=("provider",), into="settings")
@provider_options
@out_option("Samples of this shard (jsonl of generations); usage and cost go to OUT stem + .cost.json.")
def sample(instructions, shard, first, held_out, settings, out, provider):
    """Draw N mutually dissimilar responses of the model itself per instruction (Sec. 2.3).

    A draw whose ROUGE-L F1 with a kept sample reaches --tau is redrawn at a higher
    temperature; after --max-trials draws, the least similar one is kept. Trials,
    temperatures and the final pairwise ROUGE-L matrix are recorded. Failed draws are
    kept and marked (never ranked) unless more fail than --max-failed allows.
    """
    from tuna import stages

    click.echo(stages.sample(instructions, shard, first, settings, out, provider, held_out))


@click.command("judge")
@click.option("--instructions", type=FILE, required=True, help="Instruction records (jsonl).")
@click.option("--samples", type=FILE, required=True, help="Self samples of one shard (from `tuna sample`).")
@first_option
@held_out_option
@section_options(Judge, exclude=("provider",), into="settings")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Base seed of the judge's requests (each instruction and attempt gets its own).")
@provider_options
@out_option("Judgements (jsonl): every attempt, the one used, scores, rank; usage and cost go to OUT stem "
                   "+ .cost.json.")
@click.option("--quarantine", type=OUT, required=True,
              help="Every unusable judge answer, one per line with its instruction id and attempt (jsonl).")
def judge(instructions, samples, first, held_out, settings, seed, provider, out, quarantine):
    """Rank each instruction's samples with a judge LLM and the paper's Table 9 prompt.

    The judge answers at temperature 0; answers without a valid ranking are re-asked.
    OUT keeps every attempt of every instruction (raw text, parse outcome,
    temperature) and which one was used; every unusable answer also goes to
    --quarantine. A failed call is not re-asked (a rerun asks it again). More
    instructions without a usable ranking than --max-unranked allows: both files are
    written, then the command exits 1 with one line.
    """
    from tuna import stages

    click.echo(stages.judge(instructions, samples, first, settings, seed, out, quarantine, provider, held_out))


@click.command("ctx-rank")
@click.option("--instructions", type=FILE, required=True, help="Instruction records (jsonl).")
@click.option("--samples", type=FILE, multiple=True, required=True, help="Self-sample shards (repeat).")
@click.option("--judged", type=FILE, multiple=True, required=True, help="Judgement shards (repeat).")
@out_option("Training-ready rankings (jsonl).")
def ctx_rank(instructions, samples, judged, out):
    """Gather judged shards into training-ready rankings (samples in the judge's order).

    Judgements without a usable answer and failed or empty samples are left out and
    counted (in the log and the provenance stamp).
    """
    from tuna import stages

    click.echo(stages.ctx_rank(instructions, list(samples), list(judged), out))


COMMANDS = [sample, judge, ctx_rank]
