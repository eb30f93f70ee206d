"""Model import command."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from tuna import provenance
from tuna.records import atomic_path
from tuna.sources import resolve


@click.command("import-model")
@click.argument("source")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Checkpoint directory to write (transformers format, safetensors).")
@click.option("--gguf-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also keep the source GGUF here, for llama.cpp (GGUF sources only).")
def import_model(source: str, out: Path, gguf_out: Path | None):
    """Make SOURCE (a .gguf file, an HF checkpoint directory, or pkg:MODULE/FILE) a checkpoint.

    A GGUF is dequantized to fp32 so it can be trained; the original is kept with
    --gguf-out for fast quantized sampling in llama.cpp.
    """
    from tuna import model_import

    path = resolve(source)
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
    provenance.stamp([out] + ([gguf_out] if gguf_out else []), inputs=[path], params={"source": source})
    click.echo(f"{out}: imported from {path}")


COMMANDS = [import_model]
