"""LoRA and QLoRA (peft): train low-rank adapters on a frozen base, hand on a merged checkpoint.

The adapters are injected into the loaded model in place (peft), so the trainer's
forward (tuna.train.forward) runs on the same model object, now with adapters; only
they have gradients and optimizer state. The base is held in the training precision
(QLoRA: 4-bit NF4, bitsandbytes, one CUDA GPU); peft keeps the adapters in fp32.

The finished checkpoint must be what full fine-tuning gives: a plain
`from_pretrained`-loadable model, so sampling, export, evaluation and a further
training stage need nothing LoRA-specific. So the trained adapter is saved in peft's
format in the checkpoint's `adapter/` folder, and the base, loaded again from the init
checkpoint in the training precision (unquantized, also after QLoRA), gets it merged in
(W + alpha/r * B A) and is saved as the checkpoint itself. Under ZeRO-3 only the
adapter weights are gathered for this, never the base.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from tuna.config.settings import Lora
from tuna.errors import TunaError
from tuna.train.checkpoint import load_model

ADAPTER_DIR = "adapter"  # inside a checkpoint: the trained adapter (peft's adapter_config.json + weights)


def config(lora: Lora, task_type: str | None):
    from peft import LoraConfig

    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=lora.target_modules,
                      bias="none", task_type=task_type)


def attach(model: nn.Module, lora: Lora, causal_lm: bool = True):
    """Inject adapters into `model` in place and freeze everything else; returns the peft model
    (what saves the adapter). `causal_lm`: a model with its LM head (else a backbone, as a PRM's)."""
    from peft import get_peft_model

    if lora.quantize:
        from peft import prepare_model_for_kbit_training

        # Layer norms and the head in fp32 for stable QLoRA training; checkpointing stays the trainer's choice.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    try:
        return get_peft_model(model, config(lora, "CAUSAL_LM" if causal_lm else None))
    except ValueError as exc:  # target modules that match nothing
        raise TunaError(f"lora.target_modules {lora.target_modules!r}: {exc}") from None


def trainable_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, all) parameter counts."""
    sizes = [(getattr(p, "ds_numel", p.numel()), p.requires_grad) for p in model.parameters()]  # ZeRO-3: ds_numel
    return sum(n for n, learns in sizes if learns), sum(n for n, _ in sizes)


def save_adapter(peft_model, weights: dict[str, torch.Tensor], directory: Path) -> None:
    """The adapter in peft's format; `weights`: the trained adapter weights, named as in the model
    the adapters were injected into (`model.layers.0.self_attn.q_proj.lora_A.default.weight`)."""
    state = {f"base_model.model.{name}": tensor.contiguous() for name, tensor in weights.items()}
    peft_model.save_pretrained(directory, state_dict=state, safe_serialization=True, save_embedding_layers=False)


def save_merged(peft_model, weights: dict[str, torch.Tensor], init: Path, dtype: torch.dtype, directory: Path,
                causal_lm: bool = True) -> None:
    """The adapter into directory/adapter/, and the init checkpoint, loaded again in `dtype` (unquantized),
    with the adapter merged into its weights, into `directory` (save_pretrained, safetensors)."""
    from peft import PeftModel

    save_adapter(peft_model, weights, directory / ADAPTER_DIR)
    base = load_model(init, dtype, causal_lm)
    PeftModel.from_pretrained(base, directory / ADAPTER_DIR).merge_and_unload().save_pretrained(
        directory, safe_serialization=True)


def require_cuda_for(lora: Lora | None) -> None:
    """QLoRA's 4-bit kernels run on CUDA only: one line before anything is loaded."""
    if not (lora and lora.quantize):
        return
    if not torch.cuda.is_available():
        raise TunaError("lora.quantize 4bit (QLoRA) needs a CUDA GPU and none is visible here; "
                        "train with lora.quantize: null (LoRA on the unquantized base) or on a GPU")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise TunaError("lora.quantize 4bit (QLoRA) needs bitsandbytes: pip install bitsandbytes (or .[qlora])") from None


def quantization(lora: Lora | None, compute_dtype: torch.dtype):
    """from_pretrained's quantization_config for QLoRA (None without)."""
    if not (lora and lora.quantize):
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=compute_dtype)
