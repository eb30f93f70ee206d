"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server), asynchronously.

Calls run on `concurrency` workers sharing one client, paced by optional
requests/tokens-per-minute limits. Transport faults (429 with Retry-After, 5xx,
timeouts, dropped connections, truncated bodies) are retried by the openai client
itself; answers that arrive but are unusable (malformed JSON, no choices, missing
logprobs) are retried by tenacity. A call that still fails says what happened
(connection refused / dropped / timed out / bad body / HTTP status). A bad key (401/403) or an unknown model (404)
stops the run at once with one line naming what to fix.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys

import aiohttp
import openai
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential
from tqdm import tqdm

from tuna.config.settings import CONSTRAINT_STYLES
from tuna.errors import TunaError
from tuna.llm.base import Call, CallFailed, Provider, Request, answer, chat_messages

OPENAI_URL = "https://api.openai.com/v1"


class BadResponse(Exception):
    """The server answered, but not with a usable completion."""


class Pacer:
    """At most `per_minute` units per minute, spread evenly (no bursts); None: unlimited."""

    def __init__(self, per_minute: float | None):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.next_free = 0.0

    async def acquire(self, units: float = 1.0) -> None:
        if not self.interval:
            return
        now = asyncio.get_running_loop().time()
        start = max(now, self.next_free)
        self.next_free = start + units * self.interval
        await asyncio.sleep(start - now)


class OpenAIProvider(Provider):
    kind = "openai"

    def __init__(self, model: str, *, base_url: str | None, api: str, api_key_env: str, template: str,
                 constrain_with: str, **common):
        super().__init__(model, template, **common)
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")
        self.api = api
        self.constrain_with = constrain_with
        self.api_key_env = api_key_env
        key = os.environ.get(api_key_env)
        if not key and self.base_url == OPENAI_URL:
            raise TunaError(f"openai: set the environment variable {api_key_env} to your API key")
        self._api_key = key or "EMPTY"  # self-hosted servers (vLLM, llama.cpp) often need none
        if constrain_with not in CONSTRAINT_STYLES:
            raise TunaError(f"{model}: constrain_with must be one of {', '.join(CONSTRAINT_STYLES)}")
        if api == "completions" and template == "chat":
            raise TunaError(f"{model}: --template chat needs --api chat (the endpoint holds the chat template)")

    def identity(self) -> dict:
        identity = {"provider": self.kind, "model": self.model, "base_url": self.base_url, "api": self.api}
        if self.constrain_with != "auto":  # auto's choice follows from `api`
            identity["constrain_with"] = self.constrain_with
        return identity

    def _payload(self, request: Request) -> dict:
        if self.api == "chat":
            return {"messages": chat_messages(request)}
        return super()._payload(request)

    def _run(self, calls: list[Call], record, desc: str) -> None:
        asyncio.run(self._run_async(calls, record, desc))

    async def _run_async(self, calls: list[Call], record, desc: str) -> None:
        # aiohttp under the SDK: a quarter less client CPU per request than its default httpx transport.
        client = openai.AsyncOpenAI(api_key=self._api_key, base_url=self.base_url, timeout=self.limits.timeout,
                                    max_retries=self.limits.max_retries, http_client=openai.DefaultAioHttpClient())
        requests, tokens = Pacer(self.limits.requests_per_minute), Pacer(self.limits.tokens_per_minute)
        pending = iter(calls)
        bar = tqdm(total=len(calls), desc=desc, unit="call", file=sys.stderr, disable=None)

        async def worker() -> None:
            for call in pending:  # one shared iterator: each call goes to exactly one worker
                await requests.acquire()
                await tokens.acquire(_token_estimate(call))
                try:
                    record(call, await self._call(client, call))
                except CallFailed as exc:
                    record(call, None, str(exc))
                bar.update()

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.limits.concurrency, len(calls))):
                    group.create_task(worker())
        except* TunaError as errors:
            raise errors.exceptions[0] from None
        finally:
            bar.close()
            await client.close()

    async def _call(self, client: openai.AsyncOpenAI, call: Call) -> dict:
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(BadResponse), stop=stop_after_attempt(self.limits.max_retries + 1),
                wait=wait_exponential(multiplier=0.5, max=8), reraise=True,
            ):
                with attempt:
                    return await self._request(client, call)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise TunaError(f"{self.base_url}: {exc.status_code} for model '{self.model}': "
                            f"check the API key in ${self.api_key_env}") from None
        except openai.NotFoundError:
            raise TunaError(f"{self.base_url}: model '{self.model}' not found (404): "
                            "check the provider's model and base_url") from None
        except (openai.APIError, BadResponse) as exc:
            raise CallFailed(self._failure(exc)) from None

    def _failure(self, exc: Exception) -> str:
        """What happened to a call, in words that point at the cause (the SDK calls a refused
        or dropped connection a time-out under its aiohttp transport)."""
        if isinstance(exc, BadResponse):
            return f"bad body: {exc}"
        if isinstance(exc, openai.APIStatusError):
            return f"HTTP {exc.status_code} from {self.base_url}: {exc.message.removeprefix(f'Error code: {exc.status_code} - ')}"
        causes = []
        while exc is not None:
            causes.append(exc)
            exc = exc.__cause__ or exc.__context__
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            return f"connection refused: nothing listens at {self.base_url}"
        if any(isinstance(c, aiohttp.ServerDisconnectedError) for c in causes):
            return f"connection dropped: {self.base_url} closed it without answering"
        if any(isinstance(c, aiohttp.ClientPayloadError) for c in causes):
            return f"bad body: the answer from {self.base_url} was cut off"
        if any(isinstance(c, aiohttp.ClientConnectorError) for c in causes):
            return f"cannot connect to {self.base_url}: {causes[-1]}"
        if any(isinstance(c, (TimeoutError, openai.APITimeoutError)) for c in causes):
            return f"timed out: no answer from {self.base_url} within {self.limits.timeout:g}s"
        return f"{type(causes[0]).__name__}: {causes[0]}"

    async def _request(self, client: openai.AsyncOpenAI, call: Call) -> dict:
        request = call.request
        body = {"model": self.model, "max_tokens": request.max_tokens, "temperature": request.temperature,
                **call.payload}
        if call.seed is not None:
            body["seed"] = call.seed
        if request.stop:
            body["stop"] = list(request.stop)
        if self.api == "chat":
            path = "/chat/completions"
            if request.logprobs:  # top_logprobs too: llama.cpp's server returns no logprobs without it
                body.update(logprobs=True, top_logprobs=1)
        else:
            path = "/completions"
            if request.logprobs:
                body["logprobs"] = 1
        if request.json_schema:
            if self._constrains_with_grammar():
                body["grammar"] = _gbnf(json.dumps(request.json_schema))
            else:
                body["response_format"] = _json_schema_format(request.json_schema)
        # The client's plain `post` with the body as bytes: the SDK's typed methods spend
        # more CPU checking parameters and building response objects than the request
        # itself takes (status errors and retries are the same).
        content = await client.post(path, cast_to=bytes, body=body)
        try:
            response = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadResponse(f"unparseable body ({exc})") from None
        return self._parse(response, request)

    def _constrains_with_grammar(self) -> bool:
        """llama.cpp's servers take a GBNF `grammar`; OpenAI and vLLM a JSON-schema `response_format`."""
        if self.constrain_with == "auto":
            return self.api == "completions"
        return self.constrain_with == "grammar"

    def _parse(self, response, request: Request) -> dict:
        choices = response.get("choices") if isinstance(response, dict) else None
        if not choices or not isinstance(choices[0], dict):
            raise BadResponse("no choices in the answer")
        choice = choices[0]
        details = choice.get("logprobs") or {}
        if self.api == "chat":
            text = (choice.get("message") or {}).get("content")
            content = details.get("content")
            logprobs = [token.get("logprob") for token in content] if content is not None else None
        else:
            text = choice.get("text")
            logprobs = details.get("token_logprobs")
        if not isinstance(text, str):
            raise BadResponse("answer without text")
        if request.logprobs and (logprobs is None or any(not isinstance(v, (int, float)) for v in logprobs)):
            raise BadResponse("answer without token logprobs")
        usage = response.get("usage") or {}
        result = answer(text, [float(v) for v in logprobs] if request.logprobs else None, choice.get("finish_reason"),
                        prompt_tokens=usage.get("prompt_tokens") or 0, completion_tokens=usage.get("completion_tokens"))
        return {**result, **_served(response)}


def _served(response: dict) -> dict:
    """Which model the endpoint says answered (`model`, `system_fingerprint`), for provenance."""
    if not isinstance(response.get("model"), str):
        return {}
    fingerprint = response.get("system_fingerprint")
    return {"served": [response["model"], fingerprint if isinstance(fingerprint, str) else None]}


def _token_estimate(call: Call) -> float:
    """Tokens a call may use, for tokens-per-minute pacing (about 4 characters per token)."""
    return len(json.dumps(call.payload)) / 4 + call.request.max_tokens


def _json_schema_format(schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}


@functools.cache
def _gbnf(schema: str) -> str:
    """A llama.cpp grammar for a JSON schema (llama.cpp's servers take `grammar` on both endpoints)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return json_schema_to_gbnf(schema)
