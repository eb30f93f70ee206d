"""The Tuna authors' released data (microsoft/LMOps `tuna/`) as tuna's ranked records.

text-davinci-003 is retired, so these files are the only way to train the paper's
exact Tuna_p and Tuna. Two kinds, one JSON object per instruction:

- probabilistic ranking (text-davinci-003 on the 52K Alpaca instructions):
  `orig` (the Alpaca record: instruction, input, output), `text` (the 4 responses) and,
  per response, `logprob` (its total log-probability), `length` (its token count) and
  `avg_token_prob` (logprob / length; unused: Eq. 3 is recomputed with the chosen beta);
- contextual ranking (`gpt_data/gpt-4-ranking.json`, GPT-4 ranking 4 samples of Tuna_p):
  `instruct` (the instruction in the Alpaca prompt format), `generation` (the samples),
  `gpt_eval` (GPT-4's raw answer to the Table 9 prompt) and `rank` (0-based indices into
  `generation`, best first; index 4 is GPT-4's own reference "Response 4", and
  duplicates GPT-4 removed are absent). The authors' script writes this list as `ranks`,
  their README as `rank`: both are read. `prompt`, `id`, `rank_str`, `response_4` are unused.

A file may be a JSON array (how the authors' scripts write them) or JSON Lines; either
way an error names the line where the bad record starts. Records get tuna's content
ids of (instruction, input), so an instruction has the same id as in `tuna prepare-data`
output of the Alpaca data. Empty responses are never ranked.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from tuna.datasets import stable_ids
from tuna.errors import TunaError
from tuna.prompts import parse_alpaca_prompt
from tuna.ranking.judge import VerdictError, checked_verdict
from tuna.records import (
    Instruction,
    Judgement,
    RankedCandidate,
    Ranking,
    json_objects,
    parse_record,
    read_jsonl,
    write_jsonl,
)

JUDGE = "gpt-4"  # the judge of the released contextual ranking (paper Sec. 2.3)


class _Released(BaseModel):
    """A record of the authors' files: their extra fields are ignored, the used ones are typed strictly."""

    model_config = ConfigDict(extra="ignore", strict=True)


class _Alpaca(_Released):
    instruction: str = Field(min_length=1)
    input: str = ""
    output: str = ""


class _ProbRecord(_Released):
    orig: _Alpaca
    text: list[str] = Field(min_length=1)
    logprob: list[Annotated[float, Field(le=0, allow_inf_nan=False)]]
    length: list[Annotated[int, Field(ge=0)]]


class _JudgeRecord(_Released):
    instruct: str
    generation: list[str] = Field(min_length=1)
    gpt_eval: str
    rank: list[int] = Field(validation_alias=AliasChoices("rank", "ranks"))


def read_released_prob(path: str | Path, beta: float) -> list[Ranking]:
    """Rankings by Eq. 3, s = logprob / length^beta, best first (ties keep the released order)."""
    path = Path(path)
    rows = [_prob_record(f"{path}:{line}", data) for line, data in json_objects(path)]
    ids = stable_ids((row.orig.instruction, row.orig.input) for row in rows)
    return [Ranking(id=ident, instruction=row.orig.instruction, input=row.orig.input, output=row.orig.output,
                    candidates=_eq3_order(row, beta), source="prob") for ident, row in zip(ids, rows, strict=True)]


def read_released_judge(path: str | Path,
                        instructions: Iterable[Instruction] = ()) -> tuple[list[Ranking], list[Judgement]]:
    """GPT-4's released ranks as judge rankings, and its raw answers as judgements.

    The file holds no original (Alpaca) response, which the MLE term needs: it is taken
    from `instructions` with the same id, and left empty for an instruction not among them.
    """
    path = Path(path)
    rows = [_judge_record(f"{path}:{line}", data) for line, data in json_objects(path)]
    ids = stable_ids((instruction, input) for instruction, input, _, _ in rows)
    originals = {record.id: record.output for record in instructions}
    rankings, judgements = [], []
    for ident, (instruction, input, row, rank) in zip(ids, rows, strict=True):
        judgements.append(Judgement(id=ident, judge=JUDGE, raw=row.gpt_eval, ok=True, rank=rank))
        rankings.append(Ranking(id=ident, instruction=instruction, input=input, output=originals.get(ident, ""),
                                candidates=[RankedCandidate(text=row.generation[k]) for k in rank
                                            if row.generation[k].strip()],
                                source="judge"))
    return rankings, judgements


def import_prob(released: Path, beta: float, out: Path) -> str:
    """`tuna import-released --kind prob`: the released file ranked by Eq. 3 with `beta`, written and stamped."""
    from tuna import provenance

    rankings = read_released_prob(released, beta)
    write_jsonl(out, rankings)
    provenance.stamp([out], inputs=[released], params={"kind": "prob", "beta": beta})
    return f"{out}: {_summary(rankings)}; Eq. 3 with beta {beta}"


def import_judge(released: Path, instructions: Path | None, judgements: Path, out: Path) -> str:
    """`tuna import-released --kind judge`: GPT-4's released ranks as rankings, its raw answers as
    judgements, the original responses taken from `instructions`; written and stamped."""
    from tuna import provenance

    rankings, answers = read_released_judge(released, read_jsonl(instructions, Instruction) if instructions else ())
    write_jsonl(out, rankings)
    write_jsonl(judgements, answers)
    provenance.stamp([out, judgements], inputs=[released, instructions], params={"kind": "judge"})
    missing = sum(not r.output for r in rankings)
    return (f"{out}: {_summary(rankings)}; {missing} without an original response"
            f"{'' if instructions else ' (give --instructions)'}; raw answers in {judgements}")


def _summary(rankings: list[Ranking]) -> str:
    candidates = sum(len(r.candidates) for r in rankings)
    short = sum(len(r.candidates) < 2 for r in rankings)
    return f"{len(rankings)} rankings, {candidates} ranked responses ({short} rankings with fewer than 2)"


def _prob_record(where: str, data: object) -> _ProbRecord:
    row = parse_record(data, _ProbRecord, where)
    for name in ("logprob", "length"):
        if len(getattr(row, name)) != len(row.text):
            raise TunaError(f"{where}: field '{name}': {len(getattr(row, name))} values for the "
                            f"{len(row.text)} responses in 'text'")
    for k, (text, length) in enumerate(zip(row.text, row.length, strict=True)):
        if text.strip() and length == 0:
            raise TunaError(f"{where}: field 'length.{k}': 0 tokens for a non-empty response")
    return row


def _eq3_order(row: _ProbRecord, beta: float) -> list[RankedCandidate]:
    """Paper Eq. 3 from the released totals; empty responses are left out."""
    scored = [(logprob / length**beta, k) for k, (text, logprob, length)
              in enumerate(zip(row.text, row.logprob, row.length, strict=True)) if text.strip()]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [RankedCandidate(text=row.text[k], n_tokens=row.length[k], score=score) for score, k in scored]


def _judge_record(where: str, data: object) -> tuple[str, str, _JudgeRecord, list[int]]:
    """(instruction, input, record, rank without GPT-4's own response)."""
    row = parse_record(data, _JudgeRecord, where)
    task = parse_alpaca_prompt(row.instruct)
    if task is None:
        raise TunaError(f"{where}: field 'instruct': not an instruction in the Alpaca prompt format")
    n = len(row.generation)
    try:
        rank = checked_verdict(row.rank, {}, n).rank
    except VerdictError as exc:
        raise TunaError(f"{where}: field 'rank': {exc} ({n} responses in 'generation'; "
                        f"{n} is GPT-4's own)") from exc
    return *task, row, rank
