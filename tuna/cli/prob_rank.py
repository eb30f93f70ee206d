"""Probabilistic ranking commands (paper Sec. 2.2): teacher responses with log-probs, Eq. 3 ranking."""

from __future__ import annotations

from pathlib import Path

import click

from tuna import provenance
from tuna.cli.options import beta_option, provider_options, shard_option
from tuna.config.settings import TRUNCATED_RULES, Scoring, Teacher, default, doc
from tuna.records import Generation, Instruction, iter_jsonl, read_jsonl, write_jsonl


@click.command("teacher")
@click.argument("instructions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@shard_option
@click.option("--n", "n", type=click.IntRange(min=1), default=default(Teacher, "n"), show_default=True,
              help=doc(Teacher, "n"))
@click.option("--temperature", type=click.FloatRange(min=0), default=default(Teacher, "temperature"),
              show_default=True, help=doc(Teacher, "temperature"))
@click.option("--max-tokens", type=click.IntRange(min=1), default=default(Teacher, "max_tokens"), show_default=True,
              help=doc(Teacher, "max_tokens"))
@click.option("--seed", type=int, default=default(Teacher, "seed"), show_default=True,
              help="Base seed; response k of instruction ID uses a seed derived from (seed, ID) plus k.")
@provider_options
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output jsonl of generation records (one per instruction of the shard).")
def teacher(instructions: Path, shard, n: int, temperature: float, max_tokens: int, seed: int, out: Path,
            **provider_opts):
    """Sample N teacher responses with token log-probs for one shard of INSTRUCTIONS.

    Every answer is stored in the request cache as it arrives, so a killed run
    resumes where it stopped and a rerun makes no requests. Failed or empty
    responses are kept (finish_reason 'error'/'empty') and never ranked; more failed
    calls than --max-failed allows fail the stage. Writes OUT, its cost file (OUT
    stem + .cost.json) and a provenance stamp naming the model.
    """
    from tuna import stages

    settings = Teacher(n=n, temperature=temperature, max_tokens=max_tokens, seed=seed)
    click.echo(stages.teacher(instructions, shard, settings, out, provider_opts))


@click.command("score")
@click.argument("instructions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("teacher_outputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@beta_option
@click.option("--truncated", type=click.Choice(TRUNCATED_RULES), default=default(Scoring, "truncated"),
              show_default=True, help=doc(Scoring, "truncated"))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output jsonl of rankings (candidates best first, with the original response).")
def score(instructions: Path, teacher_outputs: tuple[Path, ...], beta: float, truncated: str, out: Path):
    """Rank every instruction's teacher responses by Eq. 3 (gathering all TEACHER_OUTPUTS shards).

    Responses by descending score (ties keep sampling order); failed and empty
    responses are left out of the ranking and counted.
    """
    from tuna.ranking.probabilistic import rank_all

    generations = [g for path in teacher_outputs for g in iter_jsonl(path, Generation)]
    rankings = rank_all(read_jsonl(instructions, Instruction), generations, beta,
                        source=", ".join(map(str, teacher_outputs)), truncated=truncated)
    excluded = sum(len(g.candidates) for g in generations) - sum(len(r.candidates) for r in rankings)
    write_jsonl(out, rankings)
    provenance.stamp([out], inputs=[instructions, *teacher_outputs],
                     params={"beta": beta, "truncated": truncated, "excluded_unscorable": excluded})
    click.echo(f"{out}: {len(rankings)} rankings (beta {beta}, truncated responses: {truncated}); "
               f"{excluded} failed or empty responses left out")


COMMANDS = [teacher, score]
