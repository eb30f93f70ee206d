"""A small OpenAI-protocol server for tests and benchmarks: deterministic answers, injected faults.

Speaks POST /v1/completions and /v1/chat/completions with per-token logprobs. An
answer depends only on the request (prompt/messages, seed, sample params), so two
runs can be compared byte for byte. Faults are scheduled per prompt marker: the
n-th attempt of a request whose prompt contains the marker gets the n-th fault of
its list ("always:FAULT" repeats forever). Every attempt is logged.

Faults: 429 (Retry-After: 1), 500, 401, 404, slow (sleeps past the client timeout),
drop (closes the connection without answering), malformed (invalid JSON), truncated
(Content-Length larger than the body sent), nologprobs (valid JSON, logprobs missing).
`reply` scripts the answers instead (a judge that answers badly, then well).

Run standalone for benchmarks: `python tests/fault_server.py --latency 0.1` prints its URL.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = "the a model answer is good short clear list of three ways to learn fast".split()


def deterministic_answer(body: dict) -> tuple[list[str], list[float]]:
    """Tokens and logprobs that depend only on what was asked."""
    prompt = body.get("prompt") if "prompt" in body else json.dumps(body.get("messages"))
    basis = json.dumps([prompt, body.get("seed"), body.get("temperature"), body.get("max_tokens")])
    digest = hashlib.sha256(basis.encode()).digest()
    if "EMPTY" in prompt:
        return [], []
    count = 1 + digest[0] % min(int(body.get("max_tokens") or 16), 8)
    tokens = [(" " if i else "") + WORDS[digest[i + 1] % len(WORDS)] for i in range(count)]
    return tokens, [-(digest[i + 9] / 64.0) for i in range(count)]


class FaultServer:
    """Threaded server on 127.0.0.1; use as a context manager or call start()/stop()."""

    def __init__(self, latency: float = 0.0, faults: dict[str, list[str]] | None = None,
                 slow_seconds: float = 3.0, port: int = 0, reply=None):
        self.latency = latency
        self.reply = reply  # body -> answer text (a scripted judge), or None for the deterministic answer
        self.faults = {marker: list(plan) for marker, plan in (faults or {}).items()}
        self.slow_seconds = slow_seconds
        self.log: list[dict] = []  # one entry per attempt: prompt, seed, outcome
        self.lock = threading.Lock()
        self.hold_after: int | None = None  # answer this many requests, then hold the rest
        self.released = threading.Event()
        self.answered = 0
        self.in_flight = self.max_in_flight = 0  # concurrent requests being handled
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self) -> "FaultServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    __enter__ = start

    def __exit__(self, *exc) -> None:
        self.stop()

    def answers(self) -> list[dict]:
        """Attempts that were answered with a completion."""
        return [entry for entry in self.log if entry["outcome"] == "ok"]

    def _next_fault(self, text: str) -> str | None:
        for marker, plan in self.faults.items():
            if marker in text and plan:
                if plan[0].startswith("always:"):
                    return plan[0].removeprefix("always:")
                return plan.pop(0)
        return None

    def _handler(server):  # noqa: N805 - closes over the FaultServer
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            wbufsize = 1 << 16  # headers and body leave in one write (flushed after each request)

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                text = body.get("prompt") if "prompt" in body else json.dumps(body.get("messages"))
                with server.lock:
                    fault = server._next_fault(text)
                    entry = {"path": self.path, "prompt": text, "seed": body.get("seed"), "outcome": fault or "ok"}
                    server.log.append(entry)
                    hold = fault is None and server.hold_after is not None and server.answered >= server.hold_after
                    if fault is None and not hold:
                        server.answered += 1
                if hold:
                    entry["outcome"] = "held"
                    server.released.wait()
                    self.close_connection = True
                    return
                with server.lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if server.latency:
                        time.sleep(server.latency)
                    self._respond(fault, body)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _respond(self, fault, body):
                if fault in ("429", "500", "401", "404"):
                    message = {"error": {"message": f"injected {fault}", "type": "injected", "code": fault}}
                    extra = {"Retry-After": "1"} if fault == "429" else {}
                    return self._send(int(fault), json.dumps(message).encode(), extra)
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault == "malformed":
                    return self._send(200, b'{"id": "x", "choices": [{"text": "unterminated')
                if fault == "truncated":
                    payload = json.dumps(self._completion(body)).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload) + 100))
                    self.end_headers()
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                result = self._completion(body)
                if fault == "nologprobs":
                    result["choices"][0]["logprobs"] = None
                self._send(200, json.dumps(result).encode())

            def _completion(self, body):
                scripted = server.reply(body) if server.reply else None
                tokens, logprobs = ([scripted], [-1.0]) if scripted is not None else deterministic_answer(body)
                text = "".join(tokens)
                finish = "length" if len(tokens) >= int(body.get("max_tokens") or 16) else "stop"
                if self.path.endswith("/chat/completions"):
                    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                              "logprobs": {"content": [{"token": t, "logprob": p, "bytes": None, "top_logprobs": []}
                                                       for t, p in zip(tokens, logprobs, strict=True)]}}
                    kind = "chat.completion"
                else:
                    choice = {"index": 0, "text": text, "finish_reason": finish,
                              "logprobs": {"tokens": tokens, "token_logprobs": logprobs,
                                           "top_logprobs": None, "text_offset": None}}
                    kind = "text_completion"
                prompt = body.get("prompt") or json.dumps(body.get("messages"))
                usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(tokens),
                         "total_tokens": len(prompt.split()) + len(tokens)}
                return {"id": "cmpl-test", "object": kind, "created": 0, "model": body.get("model"),
                        "system_fingerprint": "fp-fault-server", "choices": [choice], "usage": usage}

            def _send(self, status, payload, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = FaultServer(latency=args.latency, port=args.port)
    print(server.url, flush=True)
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
