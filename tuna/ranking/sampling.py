"""ROUGE-diverse self-sampling for contextual ranking (Sec. 2.3).

Each instruction gets N samples of the model's own. A sample whose ROUGE-L F1 with
a sample already kept reaches tau is dropped and its slot is drawn again at a
temperature `temperature_step` higher; after `max_trials` draws for one slot, the least similar of
its draws is kept. Slots are drawn in rounds over all instructions at once, so a
provider can batch (and an HTTP provider parallelize) every round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tuna.config.settings import Sampling
from tuna.records import Candidate, Generation, Instruction
from tuna.rouge import RougeL

# One round: for each (instruction, how many samples, temperature, round number) the samples.
Draw = Callable[[list[tuple[Instruction, int, float, int]]], list[list[Candidate]]]


@dataclass
class _Slots:
    """The state of one instruction: samples kept, and the draws of the slot being filled."""

    kept: list[Candidate] = field(default_factory=list)
    kept_ids: list[list[int]] = field(default_factory=list)
    rejected: list[tuple[float, Candidate, list[int]]] = field(default_factory=list)  # too-similar draws
    draws: int = 0


def sample_diverse(instructions: list[Instruction], draw: Draw, rule: Sampling, model: str,
                   rouge: RougeL | None = None) -> list[Generation]:
    """N mutually dissimilar samples per instruction, with trials and the final ROUGE-L matrix
    (`rule`: the `sampling` settings: n, temperature, temperature_step, max_trials, tau)."""
    rouge = rouge or RougeL()
    states = [_Slots() for _ in instructions]
    for round_no in range(rule.max_trials):
        temperature = round(rule.temperature + round_no * rule.temperature_step, 6)
        wanted = [(i, rule.n - len(state.kept)) for i, state in enumerate(states) if len(state.kept) < rule.n]
        if not wanted:
            break
        batches = draw([(instructions[i], count, temperature, round_no) for i, count in wanted])
        for (i, count), candidates in zip(wanted, batches, strict=True):
            _consider(states[i], candidates[:count], rouge, rule.tau)
    for state in states:  # slots still open after max_trials: keep the least similar draws
        while len(state.kept) < rule.n and state.rejected:
            best = min(state.rejected, key=lambda item: _similarity(rouge, state.kept_ids, item[2]))
            state.rejected.remove(best)
            state.kept.append(best[1])
            state.kept_ids.append(best[2])
    return [
        Generation(id=record.id, model=model, candidates=state.kept, trials=state.draws,
                   rouge_l=rouge.pairwise_f1([c.text for c in state.kept]))
        for record, state in zip(instructions, states, strict=True)
    ]


def _consider(state: _Slots, candidates: list[Candidate], rouge: RougeL, tau: float) -> None:
    """Keep each new candidate unless it is too similar to one kept; remember the rejects."""
    for candidate in candidates:
        state.draws += 1
        ids = rouge.encode(candidate.text)
        similarity = _similarity(rouge, state.kept_ids, ids)
        if similarity < tau:
            state.kept.append(candidate)
            state.kept_ids.append(ids)
        else:
            state.rejected.append((similarity, candidate, ids))


def _similarity(rouge: RougeL, kept: list[list[int]], ids: list[int]) -> float:
    """Highest ROUGE-L F1 of a sample with any kept sample (0 when none is kept)."""
    return max((rouge.score_ids(other, ids).fmeasure for other in kept), default=0.0)
