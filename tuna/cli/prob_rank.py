"""Probabilistic ranking commands (paper Sec. 2.2): teacher responses with log-probs, Eq. 3 ranking."""

from __future__ import annotations

import click

from tuna.cli.options import FILE, out_option, section_options, shard_option
from tuna.cli.provider import provider_options
from tuna.config.settings import Scoring, Teacher


@click.command("teacher", short_help="Teacher responses with token log-probs (Sec. 2.2).")
@click.argument("instructions", type=FILE)
@shard_option
@section_options(Teacher, exclude=("provider",), into="settings")
@provider_options
@out_option("Output jsonl of generation records (one per instruction of the shard).")
def teacher(instructions, shard, settings, out, provider):
    """Sample N teacher responses with token log-probs for one shard of INSTRUCTIONS, response k of
    instruction ID seeded from (--seed, ID) + k, cached as they arrive (a killed run resumes);
    failed or empty responses are kept and marked, never ranked."""
    from tuna import stages

    click.echo(stages.teacher(instructions, shard, settings, out, provider))


@click.command("score", short_help="Rank teacher responses by Eq. 3.")
@click.argument("instructions", type=FILE)
@click.argument("teacher_outputs", nargs=-1, required=True, type=FILE)
@section_options(Scoring, into="scoring")
@out_option("Output jsonl of rankings (candidates best first, with the original response).")
def score(instructions, teacher_outputs, scoring, out):
    """Rank every instruction's teacher responses by Eq. 3 (all TEACHER_OUTPUTS shards together):
    by descending score, ties in sampling order, failed and empty responses left out and counted."""
    from tuna.ranking.probabilistic import score_files

    click.echo(score_files(instructions, list(teacher_outputs), scoring, out))


COMMANDS = [teacher, score]
