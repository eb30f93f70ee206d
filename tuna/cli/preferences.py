"""Preference data in and out: tuna's rankings for TRL and friends; their preference data for tuna."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from tuna.cli.options import FILE, out_dir_option, out_option
from tuna.config.models import PreferenceFields
from tuna.config.settings import PAIRS, PREFERENCE_FORMATS, TEMPLATES, one_line


@click.command("export-preferences")
@click.argument("ranked", type=FILE)
@click.option("--format", "format_", type=click.Choice(PREFERENCE_FORMATS), required=True,
              help="pairwise: rows prompt, chosen, rejected; listwise: rows prompt, completions (best first), scores "
                   "(and ranks, the rank groups, when any ranking has ties).")
@click.option("--pairs", type=click.Choice(PAIRS), default="all", show_default=True,
              help="pairwise: every pair of responses of different rank groups, or the best group against the rest.")
@click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
              help="The prompt format of the model the responses answered: chat gives TRL's conversational rows "
                   "(lists of role/content messages), alpaca the Alpaca prompt text and plain responses.")
@out_dir_option("Directory: a `datasets` data set (datasets.load_from_disk), data.jsonl and provenance.json.")
def export_preferences(ranked: Path, format_: str, pairs: str, template: str, out: Path):
    """A RANKED data set (ranking jsonl) as preference data in TRL's conventions.

    Never a pair inside a rank group (a tie); failed or empty responses and rankings
    left without a pair are left out and counted. provenance.json carries the
    ranking's own provenance.
    """
    from datasets import disable_progress_bars

    from tuna.preferences.export import export_preferences as export

    if pairs != "all" and format_ != "pairwise":
        raise click.UsageError("--pairs applies to --format pairwise")
    disable_progress_bars()  # a log line per save, not a bar
    click.echo(export(ranked, out, format_, pairs, template))


def _fields(ctx, param, values: tuple[str, ...]) -> PreferenceFields:
    mapping = {}
    for value in values:
        key, sep, path = value.partition("=")
        if not sep:
            raise click.BadParameter(f"'{value}': expected KEY=PATH (e.g. prompt=instruction)")
        mapping[key] = path or None
    try:
        return PreferenceFields(**mapping)
    except ValidationError as exc:
        raise click.BadParameter(one_line(exc).removeprefix("(top level): ")) from None


@click.command("import-preferences")
@click.argument("location")
@click.option("--format", "format_", type=click.Choice(PREFERENCE_FORMATS), required=True,
              help="listwise: a prompt and several scored or ranked responses per row (UltraFeedback); pairwise: a "
                   "prompt, a chosen and a rejected response (HH-RLHF).")
@click.option("--field", "fields", multiple=True, callback=_fields, metavar="KEY=PATH",
              help="Where a value sits in each row (repeatable): KEY is prompt, input, output, completions, scores, "
                   "ranks, chosen or rejected; PATH is dotted, `*` walks a list (completions=completions.*.response); "
                   "an empty PATH: none. Defaults: TRL's column names (config/README.md, models.M.data.fields).")
@out_option("Output jsonl of rankings (source preferences; equal scores share a rank group).")
def import_preferences(location: str, format_: str, fields: PreferenceFields, out: Path):
    """Preference data at LOCATION (a JSON Lines or JSON file) as tuna rankings.

    Listwise rows become one ranking each (equal scores or ranks tied); the pairs of one
    prompt become one ranking when together they order its responses, else one
    2-response ranking each. Empty responses are left out and counted.
    """
    from tuna.preferences.read import import_preferences as run

    click.echo(run(location, format_, fields, out))


COMMANDS = [import_preferences, export_preferences]
