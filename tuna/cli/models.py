"""Model files in and out: import a checkpoint (GGUF, HF directory, Hub), export one to GGUF for llama.cpp."""

from __future__ import annotations

import click

from tuna.cli.options import DIR, OUT, out_option
from tuna.config.settings import DEFAULT_QUANT
from tuna.export import QUANTS


@click.command("import-model", short_help="A GGUF, HF directory or Hub model as a checkpoint.")
@click.argument("source")
@out_option("Checkpoint directory to write (transformers format, safetensors).", directory=True)
@click.option("--gguf-out", type=OUT, default=None, help="Also keep the source GGUF here, for llama.cpp.")
def import_model(source, out, gguf_out):
    """Make SOURCE (a .gguf file, dequantized to fp32; an HF checkpoint directory; pkg:MODULE/FILE;
    or a Hub model hf:ORG/NAME[@REVISION][/FILE.gguf], fetched into the Hub cache, HF_HOME,
    HF_TOKEN, HF_HUB_OFFLINE=1 apply, its commit recorded) a trainable checkpoint."""
    from tuna.model_import import import_model as run

    click.echo(run(source, out, gguf_out))


@click.command("export", short_help="A checkpoint as a (quantized) GGUF for llama.cpp.")
@click.argument("checkpoint", type=DIR)
@click.option("--quant", type=click.Choice(QUANTS), default=DEFAULT_QUANT, show_default=True,
              help="GGUF type: f32/f16 are written directly; bf16 and q* are quantized by llama.cpp from f32.")
@out_option("GGUF file to write (atomically).")
@click.option("--threads", type=int, default=0, show_default=True, help="Quantization threads (0: all cores).")
def export_command(checkpoint, quant, out, threads):
    """Convert CHECKPOINT (a transformers llama directory) to a GGUF file for llama.cpp, with its
    tokenizer, special tokens and chat template, so llama.cpp prompts and samples the model as
    transformers does: `tuna export checkpoints/tuna_p --quant q8_0 -o tuna_p.q8_0.gguf`."""
    from tuna.export import export

    click.echo(export(checkpoint, out, quant, threads))


COMMANDS = [import_model, export_command]
