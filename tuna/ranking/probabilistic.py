"""Probabilistic ranking (paper Sec. 2.2, Eq. 3): order teacher responses by length-normalized log-probability.

    s(r) = log p(r | i) / |r|^beta       (sum of the response's token log-probs, |r| its token count)

Rules for degenerate candidates and ties (the paper does not say):
- A candidate is *scorable* if it has log-probs and at least one token, and did not
  fail (finish_reason 'error') or come back empty ('empty'). Unscorable candidates are
  never ranked: they are left out of the ranking (and counted), so they never reach
  training.
- Responses cut by max_tokens ('length'): by default (`truncated="score"`, the paper)
  ranked by their score like any other; `truncated="last"` ranks them below every
  complete one (a truncated answer is not a finished response).
- Equal scores keep sampling order.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tuna.config.settings import Scoring
from tuna.errors import TunaError
from tuna.records import Candidate, Generation, Instruction, RankedCandidate, Ranking, answered


def eq3_score(logprobs: list[float], beta: float) -> float:
    """Sum of log-probs divided by (token count)^beta; beta 0 is the plain sum, 1 the mean."""
    return sum(logprobs) / len(logprobs) ** beta


def scorable(candidate: Candidate) -> bool:
    return answered(candidate) and bool(candidate.logprobs) and bool(candidate.n_tokens)


def rank_candidates(candidates: list[Candidate], beta: float, truncated: str = "score") -> list[RankedCandidate]:
    """The scorable candidates best first, with their Eq. 3 score."""
    keyed = []
    for order, candidate in enumerate(candidates):
        if not scorable(candidate):
            continue
        score = eq3_score(candidate.logprobs, beta)
        group = int(truncated == "last" and candidate.finish_reason == "length")
        keyed.append(((group, -score, order), candidate, score))
    keyed.sort(key=lambda item: item[0])
    return [
        RankedCandidate(**candidate.model_dump(exclude={"logprobs"}), score=score)
        for _, candidate, score in keyed
    ]


def rank_all(instructions: Iterable[Instruction], generations: Iterable[Generation], beta: float,
             source: str = "teacher output", truncated: str = "score") -> list[Ranking]:
    """One Ranking per instruction (in instruction order); every instruction must have teacher output."""
    by_id: dict[str, Generation] = {}
    for generation in generations:
        if generation.id in by_id:
            raise TunaError(f"{source}: instruction '{generation.id}' appears twice (overlapping shards?)")
        by_id[generation.id] = generation
    rankings = []
    for record in instructions:
        generation = by_id.pop(record.id, None)
        if generation is None:
            raise TunaError(f"{source}: no teacher responses for instruction '{record.id}' (missing shard?)")
        rankings.append(Ranking(id=record.id, instruction=record.instruction, input=record.input,
                                output=record.output, candidates=rank_candidates(generation.candidates, beta, truncated),
                                source="prob"))
    if by_id:
        raise TunaError(f"{source}: responses for {len(by_id)} unknown instruction(s), e.g. '{next(iter(by_id))}'"
                        " (teacher output from other instructions?)")
    return rankings


def score_files(instructions: Path, teacher_outputs: list[Path], scoring: Scoring, out: Path) -> str:
    """Rank every instruction's teacher responses by Eq. 3 (all shards gathered); failed and
    empty responses are left out and counted."""
    from tuna import provenance
    from tuna.records import iter_jsonl, read_jsonl, write_jsonl

    generations = [g for path in teacher_outputs for g in iter_jsonl(path, Generation)]
    rankings = rank_all(read_jsonl(instructions, Instruction), generations, scoring.beta,
                        source=", ".join(map(str, teacher_outputs)), truncated=scoring.truncated)
    excluded = sum(len(g.candidates) for g in generations) - sum(len(r.candidates) for r in rankings)
    write_jsonl(out, rankings)
    provenance.stamp([out], inputs=[instructions, *teacher_outputs],
                     params={**scoring.model_dump(), "excluded_unscorable": excluded})
    return (f"{out}: {len(rankings)} rankings (beta {scoring.beta}, truncated responses: {scoring.truncated}); "
            f"{excluded} failed or empty responses left out")
