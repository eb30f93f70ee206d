"""Data stage commands: check a config, download upstream data, normalize instructions."""

from __future__ import annotations

from pathlib import Path

import click

from tuna import datasets, provenance
from tuna.config.settings import Train, default
from tuna.records import write_jsonl


@click.command("check-config")
@click.argument("config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print the resolved plan: every model's kind, source or init, data parts (set, model, slice, "
                   "beta, PRM, file) and training hyper-parameters after defaults; providers; the evaluation grid.")
def check_config(config_file: Path, as_json: bool):
    """Validate a workflow config (keys, types, model references, data specs) without running anything."""
    import json

    from tuna import config
    from tuna.config.audit import resolved

    plan = config.load_file(config_file)
    if as_json:
        click.echo(json.dumps(resolved(plan), indent=2))
        return
    aliases = f"; aliases: {', '.join(f'{a} = {t}' for a, t in plan.aliases.items())}" if plan.aliases else ""
    click.echo(f"{config_file}: ok ({len(plan.models)} models: {', '.join(plan.models)}{aliases})")


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
                   "the config's downloads: or tuna/config/downloads.yaml)", err=True)
    provenance.stamp([out], params={"url": url, "sha256": digest, "pinned": bool(sha256_hex or git_sha1)})
    click.echo(f"{out}: sha256 {digest}")


@click.command("prepare-data")
@click.option("--source", default="demo", show_default=True,
              help="'demo' (tuna's own 40 instructions) or a path to Alpaca-format JSON.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Keep the first N instructions (not counting the held-out ones).")
@click.option("--held-out", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Instructions no model trains on, for held-out evaluation: a count (>= 1) or a fraction "
                   "of the source (< 1), chosen by a seeded hash of the ids before --limit.")
@click.option("--held-out-seed", type=int, default=0, show_default=True, help="Seed of the held-out choice.")
@click.option("--held-out-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the held-out instructions go (also appended to --out, so every stage ranks them); "
                   "required with --held-out.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output jsonl of instruction records.")
def prepare_data(source: str, limit: int | None, held_out: float, held_out_seed: int, held_out_out: Path | None,
                 out: Path):
    """Normalize Alpaca-format data into instruction records with stable content ids.

    With --held-out, OUT holds the first --limit training instructions followed by the
    held-out ones; the held-out ones are also written to --held-out-out, which
    `tuna train --held-out` and the held-out evaluations read.
    """
    if held_out and held_out_out is None:
        raise click.UsageError("--held-out needs --held-out-out FILE")
    path = datasets.source_path(source)
    used, kept_out = datasets.limit_with_held_out(datasets.load_alpaca(path), limit, held_out, held_out_seed)
    count = write_jsonl(out, used)
    params = {"source": source, "limit": limit, "held_out": held_out, "held_out_seed": held_out_seed}
    extra = {"held_out_count": len(kept_out)}
    provenance.stamp([out], inputs=[path], params=params, extra=extra)
    if held_out_out is not None:
        write_jsonl(held_out_out, kept_out)
        provenance.stamp([held_out_out], inputs=[path], params=params, extra=extra)
    click.echo(f"{out}: {count} instructions from {path}" + (f", {len(kept_out)} of them held out" if held_out else ""))


@click.command("mix-data")
@click.option("--part", "parts", nargs=2, multiple=True, required=True, metavar="FILE SLICE",
              type=(click.Path(exists=True, dir_okay=False, path_type=Path), str),
              help="A data set and the slice of it to keep: all, first:K, last:K or range:A:B (repeat).")
@click.option("--alpaca-mul", is_flag=True,
              help="Make each ranked record 1 + N instruction-response pairs (original + teacher responses).")
@click.option("--seed", type=int, default=default(Train, "seed"), show_default=True,
              help="Shuffle of the concatenation (the model's train.seed).")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The model's training data (jsonl).")
def mix_data(parts, alpaca_mul: bool, seed: int, out: Path):
    """A model's training data: slices of data sets in their stable order, concatenated, shuffled."""
    from tuna import mixture

    records, counts = mixture.build(parts, seed, alpaca_mul)
    write_jsonl(out, records)
    provenance.stamp([out], inputs=[path for path, _ in parts],
                     params={"parts": [[str(path), how] for path, how in parts], "alpaca_mul": alpaca_mul,
                             "seed": seed, "counts": counts})
    click.echo(f"{out}: {len(records)} records (" + ", ".join(
        f"{path} {how}: {count}" for (path, how), count in zip(parts, counts, strict=True)) + ")")


COMMANDS = [check_config, download, prepare_data, mix_data]
