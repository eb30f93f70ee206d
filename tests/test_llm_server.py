"""The openai provider against a real `llama_cpp.server` on 127.0.0.1 serving the SmolLM2 GGUF."""

import re
import socket
import subprocess
import sys

import pytest
from local_servers import wait_until_serving

from tuna.llm import Limits, ProviderSpec, Request, RequestCache, make_provider

pytestmark = pytest.mark.slow

# The server loads models like our llamacpp provider does (see plain_weight_buffers).
LAUNCH = """
import sys
from tuna.llm.llamacpp import plain_weight_buffers
with plain_weight_buffers():
    from llama_cpp.server.__main__ import main
    sys.argv[0] = "llama_cpp.server"
    main()
"""


@pytest.fixture(scope="module")
def server_url(smollm2_gguf):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, "--model", str(smollm2_gguf), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "1024", "--logits_all", "true"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_serving(url, proc, 120, "llama_cpp.server")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.parametrize("api, template", [("completions", "alpaca"), ("chat", "chat")])
def test_logprobs_over_both_endpoints(server_url, tmp_path, api, template):
    llm = make_provider(ProviderSpec(kind="openai", model="smollm2", base_url=server_url, api=api), template=template,
                        cache=RequestCache(tmp_path / "c.sqlite"),
                        limits=Limits(concurrency=2, timeout=120))
    results = llm.generate([Request("Name a color.", n=2, seed=4, max_tokens=12),
                            Request("Say hi.", n=1, seed=5, max_tokens=12)])
    assert [len(c) for c in results] == [2, 1]
    for cand in (c for cands in results for c in cands):
        assert cand.finish_reason in ("stop", "length", "empty")
        assert cand.logprobs is not None and len(cand.logprobs) == cand.n_tokens
        assert all(lp <= 0 for lp in cand.logprobs)
    assert llm.meter.calls == 3 and llm.meter.prompt_tokens > 0
    again = make_provider(ProviderSpec(kind="openai", model="smollm2", base_url=server_url, api=api),
                          template=template, cache=RequestCache(tmp_path / "c.sqlite"))
    assert again.generate([Request("Say hi.", n=1, seed=5, max_tokens=12)]) == [results[1]]
    assert again.meter.calls == 0


@pytest.mark.parametrize("api, template, constrain_with", [("completions", "alpaca", "auto"),
                                                          ("chat", "chat", "grammar")])
def test_constrained_output_through_the_server(server_url, tmp_path, api, template, constrain_with):
    """`json_schema` as a llama.cpp grammar: even a 135M model answers in the schema's shape."""
    schema = {"type": "object", "properties": {"rank": {"type": "array", "items": {"type": "integer"}}},
              "required": ["rank"]}
    llm = make_provider(ProviderSpec(kind="openai", model="smollm2", base_url=server_url, api=api,
                                     constrain_with=constrain_with),
                        template=template, cache=RequestCache(tmp_path / "c.sqlite"),
                        limits=Limits(timeout=120))
    [[free], [judged]] = llm.generate([Request("Rank answers 1, 2 and 3.", seed=1, max_tokens=24),
                                       Request("Rank answers 1, 2 and 3.", seed=1, max_tokens=24, json_schema=schema)])
    assert judged.finish_reason in ("stop", "length") and judged.logprobs is not None
    assert re.match(r'\s*\{\s*"rank"', judged.text) and judged.text != free.text  # the grammar allows whitespace
