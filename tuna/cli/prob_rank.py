"""Probabilistic ranking commands (paper Sec. 2.2): teacher responses with log-probs, Eq. 3 ranking."""

from __future__ import annotations

from pathlib import Path

import click

from tuna import provenance
from tuna.config.settings import TRUNCATED_RULES, Scoring, Teacher, default, doc
from tuna.datasets import select_shard
from tuna.cli.options import beta_option, open_provider, price_of, provider_options, shard_option
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
    responses are kept (finish_reason 'error'/'empty'), never dropped. Writes OUT,
    its cost file (OUT stem + .cost.json) and a provenance stamp.
    """
    from tuna.cost import write_cost
    from tuna.llm import Request, derive_seed

    index, count = shard
    records = select_shard(read_jsonl(instructions, Instruction), index, count)
    provider = open_provider(**provider_opts)
    requests = [Request(r.instruction, r.input, n=n, temperature=temperature, max_tokens=max_tokens,
                        seed=derive_seed(seed, r.id)) for r in records]
    results = provider.generate(requests, desc=f"teacher {index}/{count}")
    write_jsonl(out, (Generation(id=r.id, model=provider.name, candidates=c) for r, c in zip(records, results)))
    cost = write_cost(out, provider.kind, provider.name, provider.meter, price_of(**provider_opts))
    provider.close()
    params = {"shard": f"{index}/{count}", "n": n, "temperature": temperature, "max_tokens": max_tokens,
              "seed": seed, "provider": provider.kind, "model": provider.name, "template": provider.template}
    provenance.stamp([out, cost], inputs=[instructions, provider_opts["provider_model"]], params=params)
    kinds = [c.finish_reason for cands in results for c in cands]
    meter = provider.meter
    click.echo(f"{out}: {len(records)} instructions, {len(kinds)} responses "
               f"({kinds.count('error')} failed, {kinds.count('empty')} empty, {kinds.count('length')} truncated); "
               f"{meter.calls} calls made, {meter.cached} from cache")


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
