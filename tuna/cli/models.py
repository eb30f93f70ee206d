"""Model import command."""

from __future__ import annotations

from pathlib import Path

import click

from tuna.cli.options import out_dir_option


@click.command("import-model")
@click.argument("source")
@out_dir_option("Checkpoint directory to write (transformers format, safetensors).")
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
    from tuna.model_import import import_model as run

    click.echo(run(source, out, gguf_out))


COMMANDS = [import_model]
