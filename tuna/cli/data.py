"""Data stage commands: check a config, download upstream data, normalize instructions."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from tuna import datasets, provenance
from tuna.errors import TunaError
from tuna.records import write_jsonl


@click.command("check-config")
@click.argument("config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_config(config_file: Path):
    """Validate a workflow config (schema and model references) without running anything."""
    from tuna.workflow import validate_config

    try:
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TunaError(f"{config_file}: not valid YAML ({exc})") from exc
    validate_config(config, source=str(config_file))
    click.echo(f"{config_file}: ok ({len(config['models'])} models: {', '.join(config['models'])})")


@click.command("download")
@click.argument("url")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Where to save.")
@click.option("--sha256", "sha256_hex", default=None, help="Pinned sha256 of the file.")
@click.option("--git-sha1", default=None, help="Pinned git blob sha1 (what GitHub stores for the file).")
def download(url: str, out: Path, sha256_hex: str | None, git_sha1: str | None):
    """Download URL to --out, verified against the pinned checksum before it is kept."""
    digest = datasets.download(url, out, sha256_hex, git_sha1)
    if not (sha256_hex or git_sha1):
        click.echo(f"warning: {url} has no pinned checksum; got sha256 {digest} (pin it in "
                   "workflow/downloads.yaml)", err=True)
    provenance.stamp([out], params={"url": url, "sha256": digest, "pinned": bool(sha256_hex or git_sha1)})
    click.echo(f"{out}: sha256 {digest}")


@click.command("prepare-data")
@click.option("--source", default="demo", show_default=True,
              help="'demo' (tuna's own 40 instructions) or a path to Alpaca-format JSON.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Keep the first N instructions.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output jsonl of instruction records.")
def prepare_data(source: str, limit: int | None, out: Path):
    """Normalize Alpaca-format data into instruction records with stable content ids."""
    path = datasets.source_path(source)
    records = datasets.load_alpaca(path)[:limit]
    count = write_jsonl(out, records)
    provenance.stamp([out], inputs=[path], params={"source": source, "limit": limit})
    click.echo(f"{out}: {count} instructions from {path}")


COMMANDS = [check_config, download, prepare_data]
