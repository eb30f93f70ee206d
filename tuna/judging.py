"""Asking a judge until its answer can be used: the re-ask policy both judges share.

The ranking judge (Table 9 prompt) and the Vicuna QA judge ask at temperature 0;
an answer with no verdict in it is asked again at REASK_TEMPERATURE (at 0 the judge
would only repeat itself), up to `retries` times. Every attempt is kept as parsed
(`tuna.records.Attempt`). A call that fails after the provider's own retries is no
answer: it is not re-asked here (the request stays out of the cache, so a rerun asks
it again) and counts against the stage's failure budget (`tuna.runner`).
Each round asks every pending item at once, so an HTTP provider runs them concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from tuna.llm.base import Provider, Request
from tuna.records import Attempt

REASK_TEMPERATURE = 0.7
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def temperature(attempt: int) -> float:
    """Greedy first, sampled re-asks."""
    return 0.0 if attempt == 0 else REASK_TEMPERATURE


def ask_until_usable(provider: Provider, keys: Sequence[K], request: Callable[[K, int], Request],
                     parse: Callable[[K, str], V], retries: int, desc: str = "judge",
                     ) -> tuple[dict[K, list[Attempt]], dict[K, V]]:
    """Every item's attempts, and the parsed verdict of those that got a usable answer.

    `request(key, attempt)` builds the request of one attempt (use `temperature(attempt)`);
    `parse(key, text)` returns a verdict or raises ValueError saying why it is unusable.
    """
    attempts: dict[K, list[Attempt]] = {key: [] for key in keys}
    verdicts: dict[K, V] = {}
    pending = list(keys)
    for attempt in range(retries + 1):
        if not pending:
            break
        answers = provider.generate([request(key, attempt) for key in pending], desc=f"{desc} (attempt {attempt + 1})")
        unusable = []
        for key, [candidate] in zip(pending, answers, strict=True):
            if candidate.finish_reason == "error":
                attempts[key].append(Attempt(raw="", temperature=candidate.temperature, outcome="failed",
                                             error=candidate.error))
                continue
            try:
                verdicts[key] = parse(key, candidate.text)
            except ValueError as exc:
                attempts[key].append(Attempt(raw=candidate.text, temperature=candidate.temperature,
                                             outcome="unusable", error=str(exc)))
                unusable.append(key)
            else:
                attempts[key].append(Attempt(raw=candidate.text, temperature=candidate.temperature, outcome="ok"))
        pending = unusable
    return attempts, verdicts
