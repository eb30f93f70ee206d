"""Data stage commands: check a config, download upstream data, normalize instructions, mix data sets."""

from __future__ import annotations

from pathlib import Path

import click

from tuna.cli.options import FILE, field_option, out_option, section_options
from tuna.config.settings import Data, Train


@click.command("check-config")
@click.argument("config_file", type=FILE)
@click.option("--json", "as_json", is_flag=True,
              help="Print the resolved plan: every model's kind, source or init, data parts (set, model, slice, "
                   "beta, PRM, file) and training hyper-parameters after defaults; providers; the evaluation grid.")
def check_config(config_file: Path, as_json: bool):
    """Validate a workflow config (keys, types, model references, data specs) without running anything."""
    from tuna.config.audit import check

    click.echo(check(config_file, as_json))


@click.command("download")
@click.argument("url")
@out_option("Where to save.")
@click.option("--sha256", default=None, help="Pinned sha256 of the file.")
@click.option("--git-sha1", default=None, help="Pinned git blob sha1 (what GitHub stores for the file).")
def download(url: str, out: Path, sha256: str | None, git_sha1: str | None):
    """Download URL to --out, verified against the pinned checksum before it is kept."""
    from tuna import datasets

    click.echo(datasets.download_file(url, out, sha256, git_sha1))


@click.command("prepare-data")
@section_options(Data, only=("source", "limit", "held_out", "held_out_seed"), into="data", extra={
    "source": {"help": "'demo' (tuna's own instructions) or a path to Alpaca-format JSON."}})
@click.option("--held-out-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the held-out instructions go (also appended to --out, so every stage ranks them); "
                   "required with --held-out.")
@out_option("Output jsonl of instruction records.")
def prepare_data(data: Data, held_out_out: Path | None, out: Path):
    """Normalize Alpaca-format data into instruction records with stable content ids.

    With --held-out, OUT holds the first --limit training instructions followed by the
    held-out ones; the held-out ones are also written to --held-out-out, which
    `tuna train --held-out` and the held-out evaluations read.
    """
    from tuna import datasets

    if data.held_out and held_out_out is None:
        raise click.UsageError("--held-out needs --held-out-out FILE")
    click.echo(datasets.prepare(data, out, held_out_out))


@click.command("mix-data")
@click.option("--part", "parts", nargs=2, multiple=True, required=True, metavar="FILE SLICE",
              type=(FILE, str),
              help="A data set and the slice of it to keep: all, first:K, last:K or range:A:B (repeat).")
@click.option("--alpaca-mul", is_flag=True,
              help="Make each ranked record 1 + N instruction-response pairs (original + teacher responses).")
@field_option(Train, "seed", help="Shuffle of the concatenation (the model's train.seed).")
@out_option("The model's training data (jsonl).")
def mix_data(parts, alpaca_mul: bool, seed: int, out: Path):
    """A model's training data: slices of data sets in their stable order, concatenated, shuffled."""
    from tuna import mixture

    click.echo(mixture.mix(parts, seed, alpaca_mul, out))


COMMANDS = [check_config, download, prepare_data, mix_data]
