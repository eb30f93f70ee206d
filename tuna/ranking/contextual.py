"""Contextual ranking end to end (Sec. 2.3): self-samples in, judge ranks out.

Glue between the provider layer and the pure pieces (`sampling`, `judge`): how a
round of self-sampling becomes provider requests, how unparseable judge answers
are re-asked, and how judged samples become training-ready rankings.
"""

from __future__ import annotations

from tuna.llm.base import Provider, Request, derive_seed
from tuna.ranking.judge import JSON_REQUEST, VerdictError, judge_prompt, parse_verdict, verdict_schema
from tuna.ranking.sampling import Draw
from tuna.records import Generation, Instruction, Judgement, RankedCandidate, Ranking

REASK_TEMPERATURE = 0.7  # a re-ask at temperature 0 would only repeat the same answer


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
                  max_tokens: int, retries: int, constrained: bool, seed: int = 0) -> list[Judgement]:
    """One judgement per instruction; unparseable answers are re-asked, then kept with ok=False."""
    pending = {g.id: g for g in samples}
    attempts: dict[str, list[str]] = {g.id: [] for g in samples}
    results: dict[str, Judgement] = {}
    for attempt in range(retries + 1):
        if not pending:
            break
        ids = list(pending)
        requests = [_judge_request(instructions[i], pending[i], max_tokens, constrained, attempt, seed) for i in ids]
        answers = provider.generate(requests, desc=f"judge (attempt {attempt + 1})")
        for ident, [candidate] in zip(ids, answers):
            n = len(pending[ident].candidates)
            raw = candidate.text
            attempts[ident].append(raw)
            try:
                if candidate.finish_reason == "error":
                    raise VerdictError(f"the judge call failed: {candidate.error}")
                verdict = parse_verdict(raw, n)
            except VerdictError as exc:
                results[ident] = Judgement(id=ident, judge=provider.name, raw=raw, ok=False, error=str(exc))
                continue
            results[ident] = Judgement(id=ident, judge=provider.name, raw=raw, ok=True, rank=verdict.rank,
                                       scores={str(k): v for k, v in verdict.scores.items()})
            del pending[ident]
    return [results[g.id] for g in samples]


def _judge_request(record: Instruction, generation: Generation, max_tokens: int, constrained: bool,
                   attempt: int, seed: int) -> Request:
    responses = [c.text for c in generation.candidates]
    prompt = judge_prompt(record.instruction, record.input, responses)
    n = len(responses)
    return Request(
        instruction=prompt + (JSON_REQUEST.format(n=n) if constrained else ""),
        n=1, temperature=0.0 if attempt == 0 else REASK_TEMPERATURE, max_tokens=max_tokens,
        seed=derive_seed(seed, record.id, str(attempt)), logprobs=False,
        json_schema=verdict_schema(n) if constrained else None,
    )


def judged_rankings(instructions: dict[str, Instruction], samples: list[Generation],
                    judgements: list[Judgement]) -> list[Ranking]:
    """Samples in the judge's order (duplicates it dropped left out); failed judgements skipped."""
    by_id = {g.id: g for g in samples}
    out = []
    for judgement in judgements:
        if not judgement.ok:
            continue
        record, generation = instructions[judgement.id], by_id[judgement.id]
        out.append(Ranking(
            id=record.id, instruction=record.instruction, input=record.input, output=record.output,
            source="judge",
            candidates=[RankedCandidate(**generation.candidates[k].model_dump(), score=judgement.scores.get(str(k)))
                        for k in judgement.rank],
        ))
    return out
