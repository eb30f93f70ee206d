"""The openai provider against our fault-injecting OpenAI-protocol server on 127.0.0.1."""

import time
from collections import Counter

import pytest
from fault_server import FaultServer

from tuna.errors import TunaError
from tuna.llm import Limits, ProviderSpec, Request, RequestCache, make_provider


def provider(server, tmp_path, api="completions", **limits):
    limits = {"concurrency": 4, "timeout": 0.5, "max_retries": 3, **limits}
    return make_provider(ProviderSpec(kind="openai", model="fake", base_url=server.url, api=api), template="alpaca",
                         cache=RequestCache(tmp_path / "cache.sqlite"), limits=Limits(**limits))


FAULTS = {"q429": ["429"], "q500": ["500", "500"], "qslow": ["slow"], "qdrop": ["drop"],
          "qmalformed": ["malformed", "malformed"], "qtruncated": ["truncated"], "qnolp": ["nologprobs"]}


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_faults_are_retried_and_no_answer_is_lost_or_duplicated(tmp_path, api):
    names = [*FAULTS, "plain1", "plain2", "EMPTY"]
    with FaultServer(faults={k: list(v) for k, v in FAULTS.items()}, slow_seconds=1.5) as server:
        llm = provider(server, tmp_path, api=api)
        started = time.monotonic()
        results = llm.generate([Request(name, n=2, seed=7, max_tokens=8) for name in names])
        elapsed = time.monotonic() - started
        answered = Counter((e["prompt"], e["seed"]) for e in server.answers())
    assert [len(c) for c in results] == [2] * len(names)
    assert all(c.finish_reason in ("stop", "length") for cands in results[:-1] for c in cands)
    assert all(c.logprobs and len(c.logprobs) == c.n_tokens for cands in results[:-1] for c in cands)
    assert [c.finish_reason for c in results[-1]] == ["empty", "empty"]  # recorded, not dropped
    assert len(answered) == 2 * len(names) and set(answered.values()) == {1}  # each call answered once
    attempts = Counter(e["outcome"] for e in server.log)
    assert attempts["ok"] == 2 * len(names)
    assert elapsed >= 1.0  # the 429's Retry-After: 1 was honoured
    assert llm.meter.calls == 2 * len(names) and llm.meter.failed == 0


def test_retries_are_bounded_and_failures_recorded(tmp_path):
    with FaultServer(faults={"bad": ["always:500"], "junk": ["always:malformed"]}) as server:
        llm = provider(server, tmp_path, max_retries=2)
        requests = [Request("bad", n=1), Request("junk", n=1), Request("good", n=1)]
        results = llm.generate(requests)
        outcomes = Counter(e["outcome"] for e in server.log)
        assert results[0][0].finish_reason == "error" and results[0][0].error.startswith("HTTP 500 from ")
        assert results[1][0].finish_reason == "error" and results[1][0].error.startswith("bad body: unparseable")
        assert results[2][0].finish_reason in ("stop", "length")
        assert outcomes["500"] == 3 and outcomes["malformed"] == 3  # 1 try + max_retries 2
        assert llm.meter.failed == 2
        # Failures are not cached: a rerun asks again; answered calls come from the cache.
        server.faults.clear()
        server.log.clear()
        again = provider(server, tmp_path)
        rerun = again.generate(requests)
        assert len(server.log) == 2 and again.meter.cached == 1
        assert rerun[2] == results[2] and rerun[0][0].finish_reason != "error"


@pytest.mark.parametrize("status, message", [("401", r"401 for model 'fake': check the API key in \$TUNA_TEST_KEY"),
                                             ("404", r"model 'fake' not found \(404\)")])
def test_auth_and_unknown_model_fail_fast(tmp_path, monkeypatch, status, message):
    monkeypatch.setenv("TUNA_TEST_KEY", "sk-test")
    with FaultServer(faults={"q": [f"always:{status}"]}) as server:
        llm = make_provider(ProviderSpec(kind="openai", model="fake", base_url=server.url, api_key_env="TUNA_TEST_KEY"),
                            template="alpaca", cache=RequestCache(tmp_path / "c.sqlite"),
                            limits=Limits(concurrency=2, max_retries=5))
        with pytest.raises(TunaError, match=message):
            llm.generate([Request(f"q{i}") for i in range(20)])
        assert len(server.log) <= 2  # no retries, the other calls are not sent


@pytest.mark.parametrize("fault, words", [("drop", "connection dropped: "), ("slow", "timed out: no answer from "),
                                          ("truncated", "bad body: the answer from "),
                                          ("nologprobs", "bad body: answer without token logprobs")])
def test_a_failed_call_says_what_happened(tmp_path, fault, words):
    with FaultServer(faults={"q": [f"always:{fault}"]}, slow_seconds=1.0) as server:
        [[candidate]] = provider(server, tmp_path, max_retries=0).generate([Request("q")])
    assert candidate.finish_reason == "error" and candidate.error.startswith(words), candidate.error


def test_a_refused_connection_is_not_called_a_timeout(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    llm = make_provider(ProviderSpec(kind="openai", model="fake", base_url=url), template="alpaca",
                        cache=RequestCache(tmp_path / "c.sqlite"), limits=Limits(max_retries=0))
    [[candidate]] = llm.generate([Request("q")])
    assert candidate.error == f"connection refused: nothing listens at {url}"


def test_missing_key_for_openai_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    with pytest.raises(TunaError, match="set the environment variable NO_SUCH_KEY"):
        make_provider(ProviderSpec(kind="openai", model="gpt-x", api_key_env="NO_SUCH_KEY"), template="alpaca",
                      cache=tmp_path / "c")


def test_calls_run_concurrently_and_a_rerun_makes_zero_requests(tmp_path):
    with FaultServer(latency=0.3) as server:
        requests = [Request(f"instruction {i}", n=2, seed=i) for i in range(8)]
        llm = provider(server, tmp_path, concurrency=6, timeout=5)
        first = llm.generate(requests)
        assert len(server.log) == 16 and 2 <= server.max_in_flight <= 6
        again = provider(server, tmp_path)
        assert again.generate(requests) == first and len(server.log) == 16 and again.meter.cached == 16


def test_requests_per_minute_paces_calls(tmp_path):
    with FaultServer() as server:
        llm = provider(server, tmp_path, concurrency=8, requests_per_minute=600)  # one per 0.1 s
        started = time.monotonic()
        llm.generate([Request(f"r{i}") for i in range(6)])
        assert time.monotonic() - started >= 0.45
