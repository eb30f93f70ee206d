"""GGUF export command: a trained checkpoint becomes a (quantized) llama.cpp model."""

from __future__ import annotations

from pathlib import Path

import click

from tuna.cli.options import DIR, out_option
from tuna.config.settings import DEFAULT_QUANT
from tuna.export import QUANTS


@click.command("export")
@click.argument("checkpoint", type=DIR)
@click.option("--quant", type=click.Choice(QUANTS), default=DEFAULT_QUANT, show_default=True,
              help="GGUF type: f32/f16 are written directly; bf16 and q* are quantized by llama.cpp from f32.")
@out_option("GGUF file to write (atomically).")
@click.option("--threads", type=int, default=0, show_default=True, help="Quantization threads (0: all cores).")
def export_command(checkpoint: Path, quant: str, out: Path, threads: int):
    """Convert CHECKPOINT (a transformers llama directory, safetensors) to a GGUF file for llama.cpp.

    The tokenizer (byte-level BPE as in SmolLM2, or SentencePiece-style BPE as in LLaMA),
    its special tokens and the chat template are carried over, so llama.cpp prompts and
    samples the model as transformers does. Example:

        tuna export checkpoints/tuna_p --quant q8_0 -o checkpoints/tuna_p.q8_0.gguf
    """
    from tuna.export import export

    click.echo(export(checkpoint, out, quant, threads))


COMMANDS = [export_command]
