"""Config and data commands: check a config, project its API cost, download upstream data, normalize
instructions, mix data sets."""

from __future__ import annotations

import click

from tuna.cli.options import FILE, OUT, field_option, out_option, section_options
from tuna.config.settings import Data, Train


@click.command("check-config", short_help="Validate a workflow config without running anything.")
@click.argument("config_file", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the resolved plan: every model's kind, init, data parts "
              "and hyper-parameters after defaults; providers; the evaluation grid.")
def check_config(config_file, as_json):
    """Validate a workflow config (keys, types, model references, data specs) without running anything."""
    from tuna.config.audit import check

    click.echo(check(config_file, as_json))


@click.group("cost", short_help="What a config's API calls will cost.")
def cost():
    """Token and dollar projections from a config's price table (`prices:`)."""


@cost.command("estimate", short_help="Calls, tokens and USD of every API stage.")
@click.argument("config_file", type=FILE)
@click.option("--instructions", type=FILE, default=None,
              help="Instruction records to project over [default: the config's data source and limit].")
def estimate(config_file, instructions):
    """Project the calls, tokens and USD of the teacher, the ranking judge and the Vicuna QA judge
    for CONFIG_FILE, and what human labelling would cost instead (prompts counted at 4 characters
    per token; responses as long as Alpaca's outputs; the worst case: every answer max_tokens)."""
    from tuna import config, cost_estimate

    click.echo(cost_estimate.report(config.load_file(config_file), instructions))


@click.command("download", short_help="Download a file, verified against its pinned checksum.")
@click.argument("url")
@out_option("Where to save.")
@click.option("--sha256", default=None, help="Pinned sha256 of the file.")
@click.option("--git-sha1", default=None, help="Pinned git blob sha1 (what GitHub stores for the file).")
def download(url, out, sha256, git_sha1):
    """Download URL to --out, verified against the pinned checksum before it is kept."""
    from tuna import datasets

    click.echo(datasets.download_file(url, out, sha256, git_sha1))


@click.command("prepare-data", short_help="Alpaca-format data as instruction records.")
@section_options(Data, only=("source", "limit", "held_out", "held_out_seed"), into="data", extra={
    "source": {"help": "'demo' (tuna's own instructions) or a path to Alpaca-format JSON."}})
@click.option("--held-out-out", type=OUT, default=None, help="Where the held-out instructions go (required with "
              "--held-out); they are also appended to --out, so every stage ranks them.")
@out_option("Output jsonl of instruction records.")
def prepare_data(data, held_out_out, out):
    """Normalize Alpaca-format data into instruction records with stable content ids (with
    --held-out: the first --limit training instructions, then the held-out ones)."""
    from tuna import datasets

    if data.held_out and held_out_out is None:
        raise click.UsageError("--held-out needs --held-out-out FILE")
    click.echo(datasets.prepare(data, out, held_out_out))


@click.command("mix-data", short_help="A model's training data from slices of data sets.")
@click.option("--part", "parts", nargs=2, multiple=True, required=True, metavar="FILE SLICE", type=(FILE, str),
              help="A data set and the slice of it to keep: all, first:K, last:K or range:A:B (repeat).")
@click.option("--alpaca-mul", is_flag=True,
              help="Make each ranked record 1 + N instruction-response pairs (original + teacher responses).")
@field_option(Train, "seed", help="Shuffle of the concatenation (the model's train.seed).")
@out_option("The model's training data (jsonl).")
def mix_data(parts, alpaca_mul, seed, out):
    """A model's training data: slices of data sets in their stable order, concatenated, shuffled."""
    from tuna import mixture

    click.echo(mixture.mix(parts, seed, alpaca_mul, out))


COMMANDS = [check_config, cost, download, prepare_data, mix_data]
