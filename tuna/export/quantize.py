"""Quantize a GGUF file with llama.cpp's own quantizer (through llama-cpp-python)."""

from __future__ import annotations

import ctypes
from pathlib import Path

import llama_cpp

from tuna.errors import TunaError
from tuna.records import atomic_path

FILE_TYPES = {
    "bf16": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16,
    "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
    "q6_k": llama_cpp.LLAMA_FTYPE_MOSTLY_Q6_K,
    "q5_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_M,
    "q4_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
    "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
}


def quantize(source: Path, out: Path, quant: str, threads: int = 0) -> None:
    """Write `source` quantized to `quant` as `out`, atomically (threads 0: all cores)."""
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FILE_TYPES[quant]
    params.nthread = threads
    with atomic_path(out) as tmp:
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params))
        if status != 0:
            raise TunaError(f"{source}: llama.cpp could not quantize it to {quant} (status {status}, see the log)")
