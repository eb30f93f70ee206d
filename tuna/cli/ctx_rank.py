"""Contextual ranking commands: self-sample, judge, gather ranks (the proxy ranking model: tuna.cli.prm)."""

from __future__ import annotations

import click

from tuna.cli.options import FILE, OUT, instructions_option, out_option, samples_option, section_options, shard_option
from tuna.cli.provider import provider_options
from tuna.config.settings import Judge, Sampling

first_option = click.option("--first", type=click.IntRange(min=0), default=None,
                            help="Use only the first K instructions (the paper judged 13K of 52K).")
beyond_first_option = click.option("--held-out", type=FILE, default=None,
                                   help="With --first: also this held-out split's instructions beyond the first K "
                                        "(ranked for the held-out agreement; never trained on).")
COST_FILE = "; usage and cost go to OUT stem + .cost.json."


@click.command("sample", short_help="The model's own dissimilar responses (Sec. 2.3).")
@instructions_option
@shard_option
@first_option
@beyond_first_option
@section_options(Sampling, exclude=("provider",), into="settings")
@provider_options
@out_option("Samples of this shard (jsonl of generations)" + COST_FILE)
def sample(instructions, shard, first, held_out, settings, out, provider):
    """Draw N mutually dissimilar responses of the model itself per instruction (Sec. 2.3): a draw
    whose ROUGE-L F1 with a kept sample reaches --tau is redrawn hotter; after --max-trials draws
    the least similar is kept. Failed draws are kept and marked, never ranked."""
    from tuna import stages

    click.echo(stages.sample(instructions, shard, first, settings, out, provider, held_out))


@click.command("judge", short_help="Rank self samples with a judge LLM (Table 9).")
@instructions_option
@click.option("--samples", type=FILE, required=True, help="Self samples of one shard (from `tuna sample`).")
@first_option
@beyond_first_option
@section_options(Judge, exclude=("provider",), into="settings")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Base seed of the judge's requests (each instruction and attempt gets its own).")
@provider_options
@out_option("Judgements (jsonl): every attempt, the one used, scores, rank" + COST_FILE)
@click.option("--quarantine", type=OUT, required=True, help="Every unusable judge answer, with its id and attempt.")
def judge(instructions, samples, first, held_out, settings, seed, provider, out, quarantine):
    """Rank each instruction's samples with a judge LLM and the paper's Table 9 prompt, at
    temperature 0; an answer without a valid ranking is re-asked and quarantined. More
    instructions unranked than --max-unranked allows: both files are written, then exit 1."""
    from tuna import stages

    click.echo(stages.judge(instructions, samples, first, settings, seed, out, quarantine, provider, held_out))


@click.command("ctx-rank", short_help="Gather judged shards into training rankings.")
@instructions_option
@samples_option
@click.option("--judged", type=FILE, multiple=True, required=True, help="Judgement shards (repeat).")
@out_option("Training-ready rankings (jsonl).")
def ctx_rank(instructions, samples, judged, out):
    """Gather judged shards into training-ready rankings (samples in the judge's order); judgements
    without a usable answer and failed or empty samples are left out and counted."""
    from tuna import stages

    click.echo(stages.ctx_rank(instructions, list(samples), list(judged), out))


COMMANDS = [sample, judge, ctx_rank]
