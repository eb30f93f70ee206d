"""Importing the Tuna authors' released rankings (the paper's own training data)."""

from __future__ import annotations

import click
from click.core import ParameterSource

from tuna.cli.options import FILE, OUT, field_option, out_option
from tuna.config.settings import Scoring


@click.command("import-released")
@click.option("--kind", type=click.Choice(["prob", "judge"]), required=True,
              help="prob: the text-davinci-003 probabilistic-ranking file; judge: gpt-4-ranking.json.")
@click.argument("released", type=FILE)
@field_option(Scoring, "beta")
@click.option("--instructions", type=FILE, default=None, help="judge: instruction records (`tuna prepare-data`) "
              "whose original responses become the MLE target; the GPT-4 file has none.")
@click.option("--judgements", type=OUT, default=None,
              help="judge (required): where GPT-4's raw answers and ranks go, as judgement records (jsonl).")
@out_option("Output jsonl of rankings (candidates best first).")
def import_released(kind, released, beta, instructions, judgements, out):
    """Import the authors' RELEASED ranking file (JSON array or JSON Lines) as tuna rankings, with
    tuna's content ids. prob: 4 responses ranked by Eq. 3 from the released log-probs with --beta
    (ties keep the released order); judge: GPT-4's ranks, its own reference response left out.
    """
    from tuna import released as release

    given = click.get_current_context().get_parameter_source("beta") is not ParameterSource.DEFAULT
    wrong = [name for name, value in {"prob": {"--instructions": instructions, "--judgements": judgements},
                                      "judge": {"--beta": given}}[kind].items() if value]
    if wrong:
        raise click.UsageError(f"{', '.join(wrong)} does not apply to --kind {kind}")
    if kind == "prob":
        click.echo(release.import_prob(released, beta, out))
    elif judgements is None:
        raise click.UsageError("--kind judge needs --judgements (where GPT-4's raw answers are kept)")
    else:
        click.echo(release.import_judge(released, instructions, judgements, out))


COMMANDS = [import_released]
