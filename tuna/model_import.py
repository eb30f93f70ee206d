"""Model import: any GGUF file or HF directory becomes a `from_pretrained`-loadable checkpoint.

Checkpoints (HF format) are the source of truth the trainer reads and writes; a
GGUF source is kept beside the checkpoint so llama.cpp can sample from it as is.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from tuna.errors import TunaError
from tuna.records import atomic_dir, atomic_path


def import_model(source: str, out: Path, gguf_out: Path | None = None) -> str:
    """`tuna import-model`: SOURCE (a .gguf file, an HF checkpoint directory, pkg:MODULE/FILE or a
    Hub model, fetched into the Hub cache) as a checkpoint in OUT, a GGUF source also kept as
    `gguf_out` for llama.cpp; stamped (a Hub model with the commit its revision resolved to)."""
    from tuna import hub, provenance
    from tuna.sources import resolve

    fetched = hub.fetch_model(source) if hub.is_hub(source) else None
    path = fetched.path if fetched else resolve(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gguf":
        print(f"dequantizing {path} into {out} ...", file=sys.stderr)
        import_gguf(path, out)
        if gguf_out:
            with atomic_path(gguf_out) as tmp:
                shutil.copyfile(path, tmp)
    else:
        if gguf_out:
            raise TunaError(f"{source}: keeping a GGUF copy needs a .gguf source")
        import_hf(path, out)
    provenance.stamp([out] + ([gguf_out] if gguf_out else []), inputs=[path], params={"source": source},
                     extra={"hub": fetched.provenance()} if fetched else None)
    return f"{out}: imported from {fetched.pinned if fetched else path}"


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
    """Copy an HF checkpoint directory (hard links where possible, to the files themselves where the
    directory links to them, as a Hub cache snapshot does), after checking it loads."""
    from transformers import AutoConfig, AutoTokenizer

    try:
        AutoConfig.from_pretrained(source)
        AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{source}: not a transformers checkpoint ({exc})") from exc

    def link_or_copy(src, dst):
        src = os.path.realpath(src)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    with atomic_dir(out_dir) as tmp:
        shutil.copytree(source, tmp, copy_function=link_or_copy)


def _save(model, tokenizer, out_dir: Path) -> None:
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
