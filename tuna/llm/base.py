"""The provider interface every stage uses: prompts in, candidates with log-probs out.

A `Request` asks for `n` answers to one instruction. Each of the n samples is its
own call with its own seed (`seed + k`) and its own entry in the request cache, so
any server works (llama.cpp's server ignores `n`), a killed job loses at most the
calls in flight, and a rerun asks for nothing it already has. Subclasses say how
to answer one call (`_answer`, or `_run` for a whole batch) and how to score a text.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tqdm import tqdm

from tuna.config.settings import ApiLimits, default
from tuna.errors import TunaError
from tuna.llm.cache import RequestCache, request_key
from tuna.prompts import build_prompt, chat_turns
from tuna.records import Candidate


@dataclass(frozen=True)
class Request:
    """Ask for `n` answers to one instruction (prompted with the provider's template)."""

    instruction: str
    input: str = ""
    n: int = 1
    temperature: float = 1.0
    max_tokens: int = 256
    seed: int | None = None  # sample k uses seed + k; None: unseeded (still cached per k)
    stop: tuple[str, ...] = ()
    json_schema: dict | None = field(default=None, hash=False)  # constrain the answer to this JSON schema
    logprobs: bool = True  # an answer without per-token log-probs counts as a bad response
    system: str | None = None  # a system prompt (tuna.prompts.build_prompt says where it goes)


@dataclass(frozen=True)
class Score:
    """log p(continuation | prompt) summed over its tokens, and how many tokens."""

    logprob: float
    n_tokens: int


@dataclass(frozen=True)
class Limits:
    """How hard an HTTP provider may push an endpoint (local providers batch as their engine does)."""

    concurrency: int = default(ApiLimits, "concurrency")
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout: float = default(ApiLimits, "timeout")
    max_retries: int = default(ApiLimits, "max_retries")


@dataclass
class Meter:
    """Calls and tokens of one provider: answered now, taken from the cache, failed."""

    calls: int = 0
    cached: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    cached_completion_tokens: int = 0
    errors: Counter = field(default_factory=Counter)  # why calls failed: message -> count
    served: Counter = field(default_factory=Counter)  # (model, fingerprint) an endpoint said answered

    def add(self, answer: dict, cached: bool) -> None:
        if answer.get("served"):
            self.served[tuple(answer["served"])] += 1
        if cached:
            self.cached += 1
            self.cached_prompt_tokens += answer["prompt_tokens"]
            self.cached_completion_tokens += answer["completion_tokens"]
        else:
            self.calls += 1
            self.prompt_tokens += answer["prompt_tokens"]
            self.completion_tokens += answer["completion_tokens"]


@dataclass(frozen=True)
class Call:
    """One sample of one request, as sent to a model and keyed in the cache."""

    index: int  # position of the request in the batch
    sample: int  # k in 0..n-1
    seed: int | None
    request: Request
    payload: dict  # what the model sees: {"prompt": ...} or {"messages": [...]}
    described: dict  # everything that determines the answer (hashed into the key)
    key: str


class CallFailed(Exception):
    """One call could not be answered (after retries): recorded as an error candidate."""


def derive_seed(seed: int | None, *parts: str) -> int | None:
    """A 31-bit seed from a base seed and names (e.g. an instruction id); None stays None."""
    if seed is None:
        return None
    digest = hashlib.sha256("\0".join([str(seed), *parts]).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def answer(text: str, logprobs: list[float] | None, finish_reason: str, prompt_tokens: int,
           completion_tokens: int | None = None) -> dict:
    """The cached form of one answer (what every provider returns for one call)."""
    n_tokens = len(logprobs) if logprobs is not None else (completion_tokens or 0)
    return {
        "text": text,
        "logprobs": logprobs,
        "n_tokens": n_tokens,
        "finish_reason": "length" if finish_reason == "length" else "stop",
        "prompt_tokens": prompt_tokens,
        "completion_tokens": n_tokens if completion_tokens is None else completion_tokens,
    }


def cut_at_stop(tokens: list[int], logprobs: list[float], decode: Callable[[list[int]], str],
                stop: Sequence[str]) -> tuple[str, list[int], list[float], bool]:
    """Text up to the first stop string, and the tokens that lie wholly before it."""
    text = decode(tokens)
    hits = [text.find(s) for s in stop if s and s in text]
    if not hits:
        return text, tokens, logprobs, False
    end = min(hits)
    keep = len(tokens)
    while keep > 0 and len(decode(tokens[:keep])) > end:
        keep -= 1
    return text[:end], tokens[:keep], logprobs[:keep], True


class Provider:
    """One model behind one interface: `prompt`, `generate`, `score`.

    Subclasses set `kind`, `chat_template`/`bos_token`/`eos_token` (for local
    models), `identity()` and `_answer(call)` (or `_run` for concurrent I/O).
    """

    kind = "base"
    chat_template: str | None = None
    bos_token = ""
    eos_token = ""

    def __init__(self, model: str, template: str, cache: RequestCache | None = None,
                 limits: Limits | None = None):
        self.model = model
        self.template = template
        self.cache = cache if cache is not None else RequestCache()
        self.limits = limits or Limits()
        self.meter = Meter()

    # --- what subclasses provide ---------------------------------------------------

    def identity(self) -> dict:
        """What names this model in cache keys (a changed model file must not hit old answers)."""
        raise NotImplementedError

    def _answer(self, call: Call) -> dict:
        """Answer one call (see `answer()`); raise CallFailed if this call cannot be answered."""
        raise NotImplementedError

    def score(self, prompt: str, continuation: str) -> Score:
        """Sum of the log-probs of `continuation`'s tokens after `prompt` (tokenized apart)."""
        raise TunaError(f"provider '{self.kind}' cannot score texts; use llamacpp or hf")

    # --- shared behaviour ----------------------------------------------------------

    @property
    def name(self) -> str:
        return self.model

    def prompt(self, instruction: str, input: str = "", system: str | None = None) -> str:
        """The exact text the model sees before its answer (Alpaca or the model's chat template)."""
        try:
            return build_prompt(self.template, instruction, input, self.chat_template, self.bos_token, self.eos_token,
                                system)
        except ValueError as exc:
            raise TunaError(f"{self.model}: {exc}") from exc

    def _payload(self, request: Request) -> dict:
        return {"prompt": self.prompt(request.instruction, request.input, request.system)}

    def calls(self, requests: Sequence[Request]) -> list[Call]:
        """Every sample of every request, with its cache key."""
        calls = []
        for index, request in enumerate(requests):
            payload = self._payload(request)
            for k in range(request.n):
                seed = None if request.seed is None else request.seed + k
                described = {
                    **self.identity(), **payload, "temperature": request.temperature,
                    "max_tokens": request.max_tokens, "seed": seed, "sample": k, "stop": list(request.stop),
                    "json_schema": request.json_schema, "logprobs": request.logprobs,
                }
                calls.append(Call(index, k, seed, request, payload, described, request_key(described)))
        return calls

    def generate(self, requests: Sequence[Request], desc: str = "generate") -> list[list[Candidate]]:
        """n candidates per request, in order; answers come from the cache when it has them.

        A call that fails after retries becomes a candidate with finish_reason 'error'
        (and is not cached, so a rerun tries again); fatal problems (bad key, unknown
        model) raise TunaError at once, keeping every answer already stored.
        """
        calls = self.calls(requests)
        answers = self.cache.get_many(sorted({call.key for call in calls}))
        for call in calls:
            if call.key in answers:
                self.meter.add(answers[call.key], cached=True)
        failures: dict[str, str] = {}
        todo = list({call.key: call for call in calls if call.key not in answers}.values())

        def record(call: Call, result: dict | None, error: str | None = None) -> None:
            if result is None:
                failures[call.key] = error or "failed"
                self.meter.failed += 1
                self.meter.errors[failures[call.key]] += 1
                return
            self.cache.put(call.key, call.described, result)
            answers[call.key] = result
            self.meter.add(result, cached=False)

        if todo:
            self._run(todo, record, desc)
        out: list[list[Candidate]] = [[] for _ in requests]
        for call in calls:
            if call.key in answers:
                candidate = _candidate(answers[call.key], call.request.temperature)
            else:
                candidate = Candidate(text="", n_tokens=0, finish_reason="error",
                                      temperature=call.request.temperature, error=failures.get(call.key, "failed"))
            out[call.index].append(candidate)
        return out

    def _run(self, calls: list[Call], record: Callable, desc: str) -> None:
        """Answer calls one at a time (llama.cpp); batched and HTTP providers override this."""
        for call in tqdm(calls, desc=desc, unit="call", file=sys.stderr, disable=None):
            try:
                result = self._answer(call)
            except CallFailed as exc:
                record(call, None, str(exc))
            else:
                record(call, result)

    def close(self) -> None:
        self.cache.close()


def _candidate(answer: dict, temperature: float) -> Candidate:
    finish = answer["finish_reason"]
    if not answer["text"].strip():
        finish = "empty"
    return Candidate(text=answer["text"], n_tokens=answer["n_tokens"], logprobs=answer["logprobs"],
                     finish_reason=finish, temperature=temperature)


def chat_messages(request: Request) -> list[dict]:
    """The request as chat turns (its system prompt, one user turn), for endpoints that apply their own template."""
    return chat_turns(request.instruction, request.input, request.system)
