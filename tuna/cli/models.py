"""Model import command."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from tuna import hub, provenance
from tuna.records import atomic_path
from tuna.sources import resolve


@click.command("import-model")
@click.argument("source")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Checkpoint directory to write (transformers format, safetensors).")
@click.option("--gguf-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also keep the source GGUF here, for llama.cpp (GGUF sources only).")
def import_model(source: str, out: Path, gguf_out: Path | None):
    """Make SOURCE (a .gguf file, an HF checkpoint directory, pkg:MODULE/FILE, or a Hub model
    hf:ORG/NAME[@REVISION][/FILE.gguf]) a checkpoint.

    A GGUF is dequantized to fp32 so it can be trained; the original is kept with
    --gguf-out for fast quantized sampling in llama.cpp. A Hub model is fetched into the
    Hub cache (HF_HOME; HF_TOKEN for gated models; HF_HUB_OFFLINE=1: from the cache only)
    and the commit its revision resolved to is recorded in the checkpoint's provenance.
    """
    from tuna import model_import

    fetched = hub.fetch_model(source) if hub.is_hub(source) else None
    path = fetched.path if fetched else resolve(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gguf":
        click.echo(f"dequantizing {path} into {out} ...", err=True)
        model_import.import_gguf(path, out)
        if gguf_out:
            with atomic_path(gguf_out) as tmp:
                shutil.copyfile(path, tmp)
    else:
        if gguf_out:
            raise click.UsageError("--gguf-out needs a .gguf source")
        model_import.import_hf(path, out)
    provenance.stamp([out] + ([gguf_out] if gguf_out else []), inputs=[path], params={"source": source},
                     extra={"hub": fetched.provenance()} if fetched else None)
    click.echo(f"{out}: imported from {fetched.pinned if fetched else path}")


COMMANDS = [import_model]
