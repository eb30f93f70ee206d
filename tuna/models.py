"""Model import: any GGUF file or HF directory becomes a `from_pretrained`-loadable checkpoint.

Checkpoints (HF format) are the source of truth the trainer reads and writes; a
GGUF source is kept beside the checkpoint so llama.cpp can sample from it as is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tuna.errors import TunaError


def import_gguf(gguf: Path, out_dir: Path) -> None:
    """Dequantize a GGUF into a plain (fp32, safetensors) transformers checkpoint."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers flags GGUF-loaded models as quantized and refuses to save them;
    # the weights are already dequantized, so rebuild a plain model around them.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    _save(model, tokenizer, out_dir)


def import_hf(source: Path, out_dir: Path) -> None:
    """Copy an HF checkpoint directory (hard links where possible), after checking it loads."""
    from transformers import AutoConfig, AutoTokenizer

    try:
        AutoConfig.from_pretrained(source)
        AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{source}: not a transformers checkpoint ({exc})") from exc

    def link_or_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp, copy_function=link_or_copy)
    replace_dir(tmp, out_dir)


def _save(model, tokenizer, out_dir: Path) -> None:
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    replace_dir(tmp, out_dir)


def replace_dir(tmp: Path, out_dir: Path) -> None:
    """Move a finished directory into place so readers never see a partial checkpoint."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


def copy_file_atomic(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
