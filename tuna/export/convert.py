"""HF llama checkpoint (safetensors) -> f32/f16 GGUF, written with the `gguf` package.

Tensors are streamed: the header and tensor table are written first, then each tensor
is read, converted and written alone, so a 7B model never sits in memory twice.

llama.cpp applies rotary embeddings to interleaved pairs of a head's dimensions (the
original Meta layout); HF's llama permuted the q/k projection rows so that rotation
pairs are the two halves of a head. `_unpermute` puts the rows back.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import torch
from safetensors import safe_open

from tuna.errors import TunaError
from tuna.export.tokenizer import add_tokenizer
from tuna.records import atomic_path

FLOAT_TYPES = {"f32": (np.float32, gguf.LlamaFileType.ALL_F32), "f16": (np.float16, gguf.LlamaFileType.MOSTLY_F16)}
SKIPPED = ("rotary_emb.inv_freq",)  # recomputed by llama.cpp; old checkpoints saved it


def convert(checkpoint: Path, out: Path, dtype: str = "f32") -> None:
    """Write `checkpoint` as a GGUF file of float type `dtype` (f32 or f16), atomically."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(checkpoint)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{checkpoint}: not a transformers checkpoint ({exc})") from exc
    if config.model_type != "llama":
        raise TunaError(f"{checkpoint}/config.json: model_type '{config.model_type}' cannot be exported (llama only)")
    files = sorted(checkpoint.glob("*.safetensors"))
    if not files:
        raise TunaError(f"{checkpoint}: no *.safetensors weights (save with safe_serialization=True)")
    float_type, file_type = FLOAT_TYPES[dtype]

    writer = gguf.GGUFWriter(None, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    writer.add_name(checkpoint.name)
    writer.add_file_type(file_type)
    _add_hyperparameters(writer, config, checkpoint)
    add_tokenizer(writer, checkpoint, config.vocab_size)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    plan = {file: [] for file in files}  # file -> [(HF name, numpy dtype)] in writing order
    for file in files:
        with safe_open(file, framework="pt") as weights:
            for hf_name in weights.keys():
                if hf_name.endswith(SKIPPED):
                    continue
                name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
                if name is None:
                    raise TunaError(f"{file}: tensor '{hf_name}' has no llama.cpp counterpart")
                shape = weights.get_slice(hf_name).get_shape()
                # Norms and biases stay f32, as llama.cpp computes them in f32 anyway.
                np_type = float_type if len(shape) > 1 else np.float32
                writer.add_tensor_info(name, shape, np.dtype(np_type), int(np.prod(shape)) * np.dtype(np_type).itemsize)
                plan[file].append((hf_name, np_type))

    with atomic_path(out) as tmp:
        writer.write_header_to_file(tmp)
        try:
            writer.write_kv_data_to_file()
            writer.write_ti_data_to_file()
            for file, tensors in plan.items():
                with safe_open(file, framework="pt") as weights:
                    for hf_name, np_type in tensors:
                        tensor = weights.get_tensor(hf_name).to(torch.float32).numpy()
                        writer.write_tensor_data(_llama_layout(hf_name, tensor, config).astype(np_type))
        finally:
            writer.close()


def _add_hyperparameters(writer: gguf.GGUFWriter, config, checkpoint: Path) -> None:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)
    writer.add_rope_dimension_count(head_dim)
    if head_dim * config.num_attention_heads != config.hidden_size:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    # transformers >= 5 keeps rope settings in rope_parameters, 4.x in rope_theta + rope_scaling.
    rope = getattr(config, "rope_parameters", None) or {"rope_theta": config.rope_theta, **(config.rope_scaling or {})}
    writer.add_rope_freq_base(rope["rope_theta"])
    kind = rope.get("rope_type", rope.get("type", "default"))
    if kind == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(rope["factor"])
    elif kind != "default":
        raise TunaError(f"{checkpoint}/config.json: rope_type '{kind}' is not supported (default, linear)")


def _llama_layout(hf_name: str, tensor: np.ndarray, config) -> np.ndarray:
    if ".self_attn.q_proj." in hf_name:
        return _unpermute(tensor, config.num_attention_heads)
    if ".self_attn.k_proj." in hf_name:
        return _unpermute(tensor, config.num_key_value_heads)
    return tensor


def _unpermute(weight: np.ndarray, n_heads: int) -> np.ndarray:
    """Rows of each head from [first halves, second halves] back to interleaved pairs."""
    rows = weight.shape[0]
    return weight.reshape(n_heads, 2, rows // n_heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)
