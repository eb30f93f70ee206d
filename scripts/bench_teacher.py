#!/usr/bin/env python
"""Benchmark: teacher-style calls through the openai provider, concurrent vs one at a time.

A loopback OpenAI-protocol server (tests/fault_server.py, in its own process) answers
every request after a fixed latency. The same provider code path the teacher uses
(request cache included) runs N requests at concurrency C, then the same N requests
one at a time (fresh caches), and prints the throughput ratio, the client's CPU time
per request (its overhead beyond waiting) and the peak RSS. A bare keep-alive
http.client loop, one request at a time, shows the floor a sequential client pays on
this machine (waking up after each idle wait costs CPU time of its own).

    python scripts/bench_teacher.py [--requests 1000] [--concurrency 32] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from tuna.llm import Limits, ProviderSpec, Request, RequestCache, make_provider

ROOT = Path(__file__).resolve().parent.parent


def run(url: str, requests: list[Request], concurrency: int, cache: Path) -> tuple[float, float]:
    """Wall seconds and client CPU seconds for answering every request."""
    provider = make_provider(ProviderSpec(kind="openai", model="bench", base_url=url), template="alpaca",
                             cache=RequestCache(cache),
                             limits=Limits(concurrency=concurrency, timeout=30, max_retries=2))
    wall, cpu = time.perf_counter(), time.process_time()
    results = provider.generate(requests, desc=f"concurrency {concurrency}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    failed = sum(c.finish_reason == "error" for cands in results for c in cands)
    assert failed == 0 and provider.meter.calls == len(requests), (failed, provider.meter)
    provider.close()
    return wall, cpu


def bare_sequential(url: str, requests: list[Request]) -> tuple[float, float]:
    """Wall and CPU seconds of the same requests sent by a minimal client: no SDK, no cache, no retries."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    wall, cpu = time.perf_counter(), time.process_time()
    for request in requests:
        body = {"model": "bench", "prompt": request.instruction, "max_tokens": request.max_tokens,
                "seed": request.seed, "logprobs": 1}
        conn.request("POST", f"{parts.path}/completions", json.dumps(body), {"Content-Type": "application/json"})
        json.loads(conn.getresponse().read())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.close()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (what the test suite runs)")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.latency = 40, 0.01
    os.environ.setdefault("TQDM_DISABLE", "1")
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fault_server.py"), "--latency", str(args.latency)],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        requests = [Request(f"Instruction number {i}: say something.", n=1, max_tokens=16, seed=i)
                    for i in range(args.requests)]
        with tempfile.TemporaryDirectory() as tmp:
            wall_c, cpu_c = run(url, requests, args.concurrency, Path(tmp) / "concurrent.sqlite")
            wall_s, cpu_s = run(url, requests, 1, Path(tmp) / "sequential.sqlite")
        bare = requests[: max(1, args.requests // 10)]
        wall_b, cpu_b = bare_sequential(url, bare)
    finally:
        server.terminate()
        server.wait()
    n = args.requests
    print(f"{n} requests, server latency {args.latency * 1000:.0f} ms, {os.cpu_count()} CPUs")
    print(f"concurrency {args.concurrency:>3}: {wall_c:7.2f} s  {n / wall_c:8.1f} req/s  "
          f"client CPU {cpu_c / n * 1000:.2f} ms/request")
    print(f"sequential     : {wall_s:7.2f} s  {n / wall_s:8.1f} req/s  "
          f"client CPU {cpu_s / n * 1000:.2f} ms/request, wall overhead "
          f"{(wall_s / n - args.latency) * 1000:.2f} ms/request beyond the latency")
    print(f"bare client    : {len(bare)} requests one at a time, client CPU {cpu_b / len(bare) * 1000:.2f} ms/request, "
          f"wall overhead {(wall_b / len(bare) - args.latency) * 1000:.2f} ms/request (this machine's floor)")
    print(f"speedup: {wall_s / wall_c:.1f}x (ideal {args.concurrency}x)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
