"""Importing the Tuna authors' released rankings (the paper's own training data)."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from tuna import provenance
from tuna.cli.options import beta_option
from tuna.records import Instruction, read_jsonl, write_jsonl

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, path_type=Path)


@click.command("import-released")
@click.option("--kind", type=click.Choice(["prob", "judge"]), required=True,
              help="prob: the text-davinci-003 probabilistic-ranking file; judge: gpt-4-ranking.json.")
@click.argument("released", type=FILE)
@beta_option
@click.option("--instructions", type=FILE, default=None,
              help="judge: instruction records (from `tuna prepare-data`) whose original responses become the MLE "
                   "target; the GPT-4 file has none.")
@click.option("--judgements", type=OUT, default=None,
              help="judge (required): where GPT-4's raw answers and ranks go, as judgement records (jsonl).")
@click.option("-o", "--out", type=OUT, required=True, help="Output jsonl of rankings (candidates best first).")
def import_released(kind: str, released: Path, beta: float, instructions: Path | None, judgements: Path | None,
                    out: Path):
    """Import the authors' RELEASED ranking file (JSON array or JSON Lines) as tuna rankings.

    prob: each instruction's 4 responses ranked by Eq. 3 from the released total
    log-probs and token counts with --beta (ties keep the released order). judge:
    GPT-4's released ranks, its own reference response left out. Empty responses are
    never ranked. Ids are tuna's content ids, as `tuna prepare-data` gives them.
    """
    from tuna.released import read_released_judge, read_released_prob

    other_kinds = {"prob": {"--instructions": instructions, "--judgements": judgements},
                   "judge": {"--beta": _given("beta")}}[kind]
    wrong = [name for name, value in other_kinds.items() if value]
    if wrong:
        raise click.UsageError(f"{', '.join(wrong)} does not apply to --kind {kind}")
    if kind == "prob":
        rankings = read_released_prob(released, beta)
        write_jsonl(out, rankings)
        provenance.stamp([out], inputs=[released], params={"kind": kind, "beta": beta})
        click.echo(f"{out}: {_summary(rankings)}; Eq. 3 with beta {beta}")
        return
    if judgements is None:
        raise click.UsageError("--kind judge needs --judgements (where GPT-4's raw answers are kept)")
    rankings, answers = read_released_judge(released, read_jsonl(instructions, Instruction) if instructions else ())
    write_jsonl(out, rankings)
    write_jsonl(judgements, answers)
    provenance.stamp([out, judgements], inputs=[released, instructions], params={"kind": kind})
    missing = sum(not r.output for r in rankings)
    click.echo(f"{out}: {_summary(rankings)}; {missing} without an original response"
               f"{'' if instructions else ' (give --instructions)'}; raw answers in {judgements}")


def _given(name: str) -> bool:
    return click.get_current_context().get_parameter_source(name) is not ParameterSource.DEFAULT


def _summary(rankings) -> str:
    candidates = sum(len(r.candidates) for r in rankings)
    short = sum(len(r.candidates) < 2 for r in rankings)
    return f"{len(rankings)} rankings, {candidates} ranked responses ({short} rankings with fewer than 2)"


COMMANDS = [import_released]
