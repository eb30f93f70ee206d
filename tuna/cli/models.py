"""Model import command."""

from __future__ import annotations

import click

from tuna.cli.options import OUT, out_option


@click.command("import-model")
@click.argument("source")
@out_option("Checkpoint directory to write (transformers format, safetensors).", directory=True)
@click.option("--gguf-out", type=OUT, default=None, help="Also keep the source GGUF here, for llama.cpp.")
def import_model(source, out, gguf_out):
    """Make SOURCE (a .gguf file, an HF checkpoint directory, pkg:MODULE/FILE, or a Hub model
    hf:ORG/NAME[@REVISION][/FILE.gguf]) a checkpoint.

    A GGUF is dequantized to fp32 so it can be trained. A Hub model is fetched into the Hub
    cache (HF_HOME; HF_TOKEN for gated models; HF_HUB_OFFLINE=1: the cache only), and the
    commit its revision resolved to goes to the checkpoint's provenance.
    """
    from tuna.model_import import import_model as run

    click.echo(run(source, out, gguf_out))


COMMANDS = [import_model]
