"""Ranking data in and out: the Tuna authors' released rankings (the paper's own training data),
tuna's rankings as preference data for TRL and friends, and theirs for tuna."""

from __future__ import annotations

import click
from click.core import ParameterSource
from pydantic import ValidationError

from tuna.cli.options import FILE, OUT, field_option, out_option
from tuna.config.models import ImportedModel, PreferenceFields
from tuna.config.settings import PAIRS, PREFERENCE_FORMATS, Scoring, one_line


@click.command("import-released", short_help="The Tuna authors' released rankings, for tuna.")
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
    (ties keep the released order); judge: GPT-4's ranks, its own reference response left out."""
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


format_option = click.option("--format", "format_", type=click.Choice(PREFERENCE_FORMATS), required=True,
                             help="pairwise: rows of prompt, chosen, rejected (HH-RLHF); listwise: a prompt and its "
                                  "responses with scores or ranks (UltraFeedback).")


@click.command("export-preferences", short_help="Tuna rankings as preference data (TRL's formats).")
@click.argument("ranked", type=FILE)
@format_option
@click.option("--pairs", type=click.Choice(PAIRS), default="all", show_default=True,
              help="pairwise: every pair of responses of different rank groups, or the best group against the rest.")
@field_option(ImportedModel, "template", help="The prompt format the responses answered: chat gives TRL's "
              "conversational rows (role/content messages), alpaca the Alpaca prompt text and plain responses.")
@out_option("Directory: a `datasets` data set (load_from_disk), data.jsonl, provenance.json.", directory=True)
def export_preferences(ranked, format_, pairs, template, out):
    """A RANKED data set (ranking jsonl) as preference data in TRL's conventions (listwise: completions
    best first, scores, and ranks when any ranking has ties). Never a pair inside a rank group;
    failed or empty responses and rankings left without a pair are left out and counted."""
    from datasets import disable_progress_bars

    from tuna.preferences.export import export_preferences as export

    if pairs != "all" and format_ != "pairwise":
        raise click.UsageError("--pairs applies to --format pairwise")
    disable_progress_bars()  # a log line per save, not a bar
    click.echo(export(ranked, out, format_, pairs, template))


def fields(ctx, param, values: tuple[str, ...]) -> PreferenceFields:
    """KEY=PATH values (an empty PATH: none) as the fields they name."""
    if bad := [value for value in values if "=" not in value]:
        raise click.BadParameter(f"'{bad[0]}': expected KEY=PATH (e.g. prompt=instruction)")
    try:
        return PreferenceFields(**{key: path or None for key, _, path in (v.partition("=") for v in values)})
    except ValidationError as exc:
        raise click.BadParameter(one_line(exc).removeprefix("(top level): ")) from None


@click.command("import-preferences", short_help="Preference data (TRL's formats) as tuna rankings.")
@click.argument("location")
@format_option
@click.option("--field", "fields", multiple=True, callback=fields, metavar="KEY=PATH",
              help="Where a value sits in each row (repeat): KEY is prompt, input, output, completions, scores, "
                   "ranks, chosen or rejected; PATH is dotted, `*` walks a list (completions=completions.*.response); "
                   "an empty PATH: none. Defaults: TRL's column names (config/README.md, models.M.data.fields).")
@out_option("Output jsonl of rankings (source preferences; equal scores share a rank group).")
def import_preferences(location, format_, fields, out):
    """Preference data at LOCATION (a JSON Lines or JSON file) as tuna rankings: a listwise row is
    one ranking (equal scores tied); the pairs of one prompt become one ranking when together
    they order its responses, else one each. Empty responses are left out and counted."""
    from tuna.preferences.read import import_preferences as run

    click.echo(run(location, format_, fields, out))


COMMANDS = [import_released, import_preferences, export_preferences]
