"""Load a checkpoint for training or scoring: the precision names and one loader with one-line errors.

Its own module (not the backends') so that what only loads a model, LoRA's merge, the
likelihood scorer, the proxy ranking model, needs nothing of the training backends.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from tuna.errors import TunaError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def load_model(init: Path, dtype: torch.dtype, causal_lm: bool = True, **options) -> nn.Module:
    """A checkpoint as a causal LM (or, `causal_lm` False, its backbone without the LM head, as a PRM uses)."""
    from transformers import AutoModel, AutoModelForCausalLM

    loader = AutoModelForCausalLM if causal_lm else AutoModel
    try:
        return loader.from_pretrained(init, dtype=dtype, attn_implementation="sdpa", **options)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{init}: cannot load a {'causal LM ' if causal_lm else ''}checkpoint ({exc})") from exc
