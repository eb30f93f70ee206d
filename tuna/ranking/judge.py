"""Contextual ranking by a judge LLM (Sec. 2.3): the paper's Table 9 prompt and its answers.

The judge sees the instruction and the N candidates ("###Response 0" ... "N-1"),
writes its own reference "###Response N", drops duplicates, scores each response
0-15 and ends with `rank: [...]`. Real judges wrap that in prose and markdown, so
`parse_verdict` reads what they write and then checks it: the rank must name each
surviving candidate once and agree with the scores. What fails the check is
re-asked (tuna.judging); every unusable answer is kept and quarantined with its raw text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import pairwise

from tuna.prompts import alpaca_prompt


def judge_prompt(instruction: str, input: str, responses: list[str]) -> str:
    """The paper's Table 9 prompt for N responses, as the authors' released `gpt-eval.py` builds it.

    With N = 4 it is the released text byte for byte, typos included (`[i, j ,k, l, m]`, no
    comma before `'rank: [i, j]'`, no line break after two of the steps). The task is the
    Alpaca prompt in its training form, ending `### Response:` (the `instruction` field of
    the authors' sampled files), then a blank line and the responses. Other N change only
    the numbers and the example ranks.
    """
    n = len(responses)
    ids = "/".join(str(k) for k in range(n))
    shown = "\n".join(f"###Response {k}:\n{text}\n" for k, text in enumerate(responses))
    letters = list("ijklmnopqrstuvwxyz"[: n + 1])
    example = ", ".join(letters[:2]) + (" ," + ", ".join(letters[2:]) if len(letters) > 2 else "")
    shorter = [f"'rank: [{', '.join(letters[:m])}]'" for m in range(n, 0, -1)]
    listed = ", ".join(shorter[:-3] + [" ".join(shorter[-3:-1])]) if n >= 3 else ", ".join(shorter[:-1])
    return (
        f"{alpaca_prompt(instruction, input)}\n\n{shown}\n\n"
        f"We would like you to rate Response {ids} in reply to the given instruction displayed above.\n"
        "First, identify if the instruction requires open-ended or close-ended responses."
        f"Second, you need to generate one high quality '###Response {n}' in answer to the instruction. "
        "It needs to have the same format as other responses and will be used as a reference later.\n"
        "Third, identify if there are duplicate responses and keep only one of the duplicate responses "
        "for the following steps."
        f"Fourth, compare Response {n} with Response {ids}/{n} and assign each response an overall score "
        "on a scale of 0 to 15 where a higher score indicates better overall quality. For an open-ended "
        "instruction, please rate based on the relevance (score 0 to 5), level of details/justification: "
        "(score 0 to 5) and accuracy (score 0 to 5) of each response; for a close-ended instruction, please "
        "rate based on the accuracy (score 0 to 5), level of details/justification (score 0 to 5) and "
        "clarity (score 0 to 5) of each response. The ratings should have the format: 'Response k: [sum of "
        "the 3 individual scores you give to response k]'.\n"
        "Last, rank the responses in decreasing order of their overall scores. The ranking should have the "
        f"format: 'rank: [{example}]'. If there are duplicate responses, keep only one of them in the rank, "
        f"that is, the ranking may become: {listed}"
        + (f" or even {shorter[-1]}.\n" if n >= 2 else f"{shorter[-1]}.\n")
    )


def verdict_schema(n: int) -> dict:
    """JSON schema for constrained judging (small local judges): the same four steps as fields."""
    score = {"type": "integer", "enum": list(range(16))}
    responses = [f"Response {k}" for k in range(n + 1)]
    return {
        "type": "object",
        "properties": {
            "instruction_type": {"enum": ["open-ended", "close-ended"]},
            f"Response {n}": {"type": "string", "maxLength": 600},
            "scores": {"type": "object", "properties": {r: score for r in responses}, "required": responses},
            "rank": {"type": "array", "items": {"type": "integer", "enum": list(range(n + 1))},
                     "minItems": 1, "maxItems": n + 1},
        },
        "required": ["instruction_type", f"Response {n}", "scores", "rank"],
    }


JSON_REQUEST = (
    "\nAnswer with one JSON object with the keys instruction_type, 'Response {n}' (your reference "
    "response), scores (an object mapping 'Response k' to its overall score) and rank (a list of "
    "response numbers)."
)


class VerdictError(ValueError):
    """The judge's answer has no usable ranking (the message says why)."""


@dataclass(frozen=True)
class RankVerdict:
    """Candidate indices best first (duplicates the judge dropped are absent) and their scores."""

    rank: list[int]
    scores: dict[int, float]


_RANK = re.compile(r"\brank(?:ing)?\s*\**\s*[:=]\s*\**\s*\[?([^\n\]]*)", re.IGNORECASE)
_SCORE_LINE = re.compile(r"^[\s#*>\-|]*(?:response|resp\.?)\s*(\d+)\s*\**\s*[:=\-|]\s*(.*)$", re.IGNORECASE | re.M)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OUT_OF_15 = re.compile(r"/\s*15\b|\bout of 15\b", re.IGNORECASE)


def parse_verdict(text: str, n: int) -> RankVerdict:
    """Read the rank and scores of N candidates from a judge's answer; raise VerdictError."""
    data = _json_object(text)
    if data is not None and ("rank" in data or "scores" in data):
        scores = _json_scores(data.get("scores", {}))
        rank = [int(k) for k in data["rank"]] if isinstance(data.get("rank"), list) else None
    else:
        scores = _text_scores(text)
        matches = _RANK.findall(text)
        rank = [int(k) for k in re.findall(r"\d+", matches[-1])] if matches else None
    return checked_verdict(rank, scores, n)


def _json_object(text: str) -> dict | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _json_scores(raw) -> dict[int, float]:
    scores = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            index = re.findall(r"\d+", str(key))
            if index and isinstance(value, (int, float)):
                scores[int(index[-1])] = float(value)
    return scores


def _text_scores(text: str) -> dict[int, float]:
    """`Response k: 13` lines (also `[5+4+4=13]`, `13/15`, bold); the last line per k wins."""
    scores = {}
    for index, rest in _SCORE_LINE.findall(text):
        rest = _OUT_OF_15.sub("", rest)
        if sum(ch.isalpha() for ch in rest) > 40:  # a response's text, not its score
            continue
        numbers = [float(x) for x in _NUMBER.findall(rest)]
        if numbers and numbers[-1] <= 15:
            scores[int(index)] = numbers[-1]
    return scores


def checked_verdict(rank: list[int] | None, scores: dict[int, float], n: int) -> RankVerdict:
    """The rank without the judge's own reference (index n), validated against the scores.

    Also the check of ranks parsed elsewhere (the authors' released GPT-4 ranks).
    """
    candidate_scores = {k: v for k, v in scores.items() if 0 <= k < n}
    if rank is None:
        if len(candidate_scores) < n:
            raise VerdictError("no 'rank: [...]' line and not every response has a score")
        rank = sorted(range(n), key=lambda k: -candidate_scores[k])  # stable: ties keep index order
    rank = [k for k in rank if k != n]
    if not rank:
        raise VerdictError("the rank names no candidate response")
    if len(set(rank)) != len(rank):
        raise VerdictError(f"the rank {rank} repeats a response")
    if any(not 0 <= k < n for k in rank):
        raise VerdictError(f"the rank {rank} names a response outside 0..{n - 1}")
    known = [candidate_scores[k] for k in rank if k in candidate_scores]
    if any(better < worse for better, worse in pairwise(known)):
        raise VerdictError(f"the rank {rank} contradicts the scores {candidate_scores}")
    return RankVerdict(rank=rank, scores=candidate_scores)
