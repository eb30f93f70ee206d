"""HF checkpoint -> GGUF -> quantized GGUF, so llama.cpp can sample from a trained model.

The converter (convert.py, tokenizer.py) is ours, written on the `gguf` package's writer;
quantization is llama.cpp's own (quantize.py). Heavy imports wait until an export runs,
so the workflow can read QUANTS cheaply.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tuna import provenance
from tuna.config.settings import QUANTS as CONFIG_QUANTS

# Every GGUF type `tuna export` makes (the config's quants but `source`, the imported file):
# floats written directly, the rest quantized by llama.cpp.
FLOATS = ("f32", "f16")
QUANTS = tuple(q for q in CONFIG_QUANTS if q != "source")


def export(checkpoint: Path, out: Path, quant: str, threads: int = 0) -> str:
    """Write `checkpoint` as `out` in GGUF type `quant` (quantized from a lossless f32 GGUF),
    stamped; its summary."""
    from tuna.export.convert import convert
    from tuna.export.quantize import quantize

    start = time.perf_counter()
    if quant in FLOATS:
        convert(checkpoint, out, quant)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
            f32 = Path(tmp) / "f32.gguf"
            convert(checkpoint, f32, "f32")
            quantize(f32, out, quant, threads)
    provenance.stamp([out], inputs=[checkpoint], params={"quant": quant})
    return (f"{out}: {quant} GGUF of {checkpoint} ({out.stat().st_size / 2**20:.0f} MiB, "
            f"{time.perf_counter() - start:.1f} s)")


