"""Contextual ranking end to end (Sec. 2.3): self-samples in, judge ranks out.

Glue between the provider layer and the pure pieces (`sampling`, `judge`): how a
round of self-sampling becomes provider requests, how the judge is asked (re-asks
by tuna.judging, every attempt kept, unusable answers quarantined), and how judged
samples become training-ready rankings (failed or empty samples never among them).
"""

from __future__ import annotations

from collections import Counter

from tuna.judging import ask_until_usable, temperature
from tuna.llm.base import Provider, Request, derive_seed
from tuna.ranking.judge import JSON_REQUEST, RankVerdict, judge_prompt, parse_verdict, verdict_schema
from tuna.ranking.sampling import Draw
from tuna.records import (
    Attempt,
    Generation,
    Instruction,
    Judgement,
    QuarantinedAnswer,
    RankedCandidate,
    Ranking,
    answered,
)


def provider_draw(provider: Provider, max_tokens: int, seed: int | None) -> Draw:
    """A sampling round as one batch of provider requests (seeded per instruction and round)."""

    def draw(batch):
        requests = [
            Request(instruction=record.instruction, input=record.input, n=count, temperature=temperature,
                    max_tokens=max_tokens, seed=derive_seed(seed, record.id, str(round_no)), logprobs=False)
            for record, count, temperature, round_no in batch
        ]
        return provider.generate(requests, desc=f"sample T={batch[0][2]:.1f}")

    return draw


def judge_samples(provider: Provider, instructions: dict[str, Instruction], samples: list[Generation],
                  max_tokens: int, retries: int, constrained: bool, seed: int = 0,
                  system: str | None = None) -> list[Judgement]:
    """One judgement per instruction, with every attempt; unusable answers are re-asked
    (tuna.judging), then the judgement is kept with ok=False."""
    by_id = {g.id: g for g in samples}

    def request(ident: str, attempt: int) -> Request:
        return _judge_request(instructions[ident], by_id[ident], max_tokens, constrained, attempt, seed, system)

    def parse(ident: str, text: str) -> RankVerdict:
        return parse_verdict(text, len(by_id[ident].candidates))

    attempts, verdicts = ask_until_usable(provider, list(by_id), request, parse, retries)
    return [_judgement(ident, provider.name, attempts[ident], verdicts.get(ident)) for ident in by_id]


def _judgement(ident: str, judge: str, attempts: list[Attempt], verdict: RankVerdict | None) -> Judgement:
    last = attempts[-1]
    if verdict is None:
        why = f"the judge call failed: {last.error}" if last.outcome == "failed" else last.error
        return Judgement(id=ident, judge=judge, raw=last.raw, ok=False, error=why, attempts=attempts)
    return Judgement(id=ident, judge=judge, raw=last.raw, ok=True, rank=verdict.rank,
                     scores={str(k): v for k, v in verdict.scores.items()}, attempts=attempts,
                     used=len(attempts) - 1)


def quarantined(judgements: list[Judgement]) -> list[QuarantinedAnswer]:
    """Every unusable answer of every judgement (also of those a re-ask then fixed)."""
    return [QuarantinedAnswer(id=j.id, judge=j.judge, attempt=k, **a.model_dump())
            for j in judgements for k, a in enumerate(j.attempts) if a.outcome == "unusable"]


def _judge_request(record: Instruction, generation: Generation, max_tokens: int, constrained: bool,
                   attempt: int, seed: int, system: str | None) -> Request:
    responses = [c.text for c in generation.candidates]
    prompt = judge_prompt(record.instruction, record.input, responses)
    n = len(responses)
    return Request(
        instruction=prompt + (JSON_REQUEST.format(n=n) if constrained else ""),
        n=1, temperature=temperature(attempt), max_tokens=max_tokens,
        seed=derive_seed(seed, record.id, str(attempt)), logprobs=False,
        json_schema=verdict_schema(n) if constrained else None, system=system,
    )


def judged_rankings(instructions: dict[str, Instruction], samples: list[Generation],
                    judgements: list[Judgement]) -> tuple[list[Ranking], Counter]:
    """Samples in the judge's order (duplicates it dropped left out), and what was left out:
    judgements without a usable answer, failed or empty samples (never ranked, never trained on)."""
    by_id = {g.id: g for g in samples}
    out, excluded = [], Counter()
    for judgement in judgements:
        if not judgement.ok:
            excluded["judgements without a usable answer"] += 1
            continue
        record, generation = instructions[judgement.id], by_id[judgement.id]
        ranked = [generation.candidates[k] for k in judgement.rank]
        usable = [k for k, c in zip(judgement.rank, ranked, strict=True) if answered(c)]
        excluded["failed or empty samples"] += len(ranked) - len(usable)
        out.append(Ranking(
            id=record.id, instruction=record.instruction, input=record.input, output=record.output,
            source="judge",
            candidates=[RankedCandidate(**generation.candidates[k].model_dump(), score=judgement.scores.get(str(k)))
                        for k in usable],
        ))
    return out, excluded
