"""Vicuna QA: a judge compares each model's answers with the baseline's (win / lose / tie).

Questions use FastChat's `question.jsonl` format. Two judge prompt styles, both read
from files in the upstream formats so the downloaded prompts are used as published:

- `review`: the original Vicuna review (`prompt.jsonl`): the judge writes two 1-10
  scores on its first line, then explains; the higher score wins.
- `pairwise`: the newer MT-bench judge (`judge_prompts.jsonl`, "pair-v2"): the judge
  explains, then writes [[A]], [[B]] or [[C]] (tie).

By default every pair is judged in both orders (position bias): a verdict that changes
with the order is a tie, and how often the two orders agree is reported (position
consistency). `orders: model_first` judges one order only, the evaluated model as
Assistant 1 / A and the baseline as Assistant 2 / B (the paper says no more; its 4-8%
ties suggest one order). An answer with no verdict is re-asked; if it stays
unparseable the question is counted as `unparsed`, never silently dropped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tuna.config.settings import VICUNA_STYLES
from tuna.errors import TunaError
from tuna.judging import ask_until_usable, temperature
from tuna.llm.base import Provider, Request
from tuna.records import Attempt, Instruction, Record

DATA = Path(__file__).resolve().parent.parent / "data"
# The offline default: tuna's own questions and judge prompts, in the upstream formats.
DEMO_QUESTIONS = DATA / "vicuna_demo_questions.jsonl"
DEMO_JUDGE_PROMPTS = {style: DATA / f"vicuna_demo_{style}_prompts.jsonl" for style in VICUNA_STYLES}
Outcome = Literal["model", "baseline", "tie"]
ORDERS = ("model_first", "baseline_first")
# Constrained output for weak local judges: the JSON they are held to still parses as a verdict.
VERDICT_SCHEMAS = {
    "pairwise": {"type": "object", "properties": {"verdict": {"enum": ["A", "B", "C"]}}, "required": ["verdict"]},
    "review": {"type": "object", "required": ["scores"], "properties": {
        "scores": {"type": "array", "items": {"enum": list(range(1, 11))}, "minItems": 2, "maxItems": 2}}},
}


def judged_orders(orders: str) -> tuple[str, ...]:
    """The orders `evaluation.vicuna.orders` judges: `both` or `model_first`."""
    return ORDERS if orders == "both" else ("model_first",)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    category: str


@dataclass(frozen=True)


class JudgePrompt:
    system: str
    template: str  # str.format template with the style's slots
    extra: dict  # further slots (review style: the {prompt} instruction)


class PairJudgement(Record):
    """The judge's answers about one question in one order, raw text of every attempt kept."""

    id: str
    category: str
    order: Literal["model_first", "baseline_first"]
    judge: str
    style: str
    attempts: list[Attempt]  # in the order asked, each as parsed
    used: int | None = None  # the attempt the verdict comes from
    verdict: Outcome | None = None  # None: no usable answer (or the call failed)
    scores: list[float] | None = None  # review style: (first, second) as written


def _read_jsonl(path: str | Path) -> list[tuple[int, dict]]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TunaError(f"{path}: cannot read ({exc.strerror})") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise TunaError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    return rows


def questions_file(location: str) -> Path:
    """Where the questions are: a question.jsonl, or `demo` for tuna's own."""
    return DEMO_QUESTIONS if location == "demo" else Path(location)


def load_questions(path: str | Path) -> list[Question]:
    """FastChat questions: {question_id, text, category} (or MT-bench style `turns`)."""
    questions = []
    for number, row in _read_jsonl(path):
        text = row.get("text") or (row.get("turns") or [None])[0]
        if "question_id" not in row or not isinstance(text, str) or not text.strip():
            raise TunaError(f"{path}:{number}: a question needs 'question_id' and a non-empty 'text'")
        questions.append(Question(str(row["question_id"]), text, row.get("category", "general")))
    return questions


def prompts(questions: list[Question]) -> list[Instruction]:
    return [Instruction(id=q.id, instruction=q.text) for q in questions]


def prompt_category(question_category: str) -> str:
    """Which judge prompt a question gets: coding and math have their own, the rest 'general'."""
    return question_category if question_category in ("coding", "math") else "general"


def load_judge_prompts(path: str | Path, style: str) -> dict[str, JudgePrompt]:
    """Judge prompts by category, from prompt.jsonl (review) or judge_prompts.jsonl (pairwise)."""
    found = {}
    for number, row in _read_jsonl(path):
        try:
            if style == "review":
                found[row["category"]] = JudgePrompt(row["system_prompt"], row["prompt_template"], row["defaults"])
            elif row.get("type") == "pairwise" and "multi-turn" not in row["name"] \
                    and "{ref_answer_1}" not in row["prompt_template"]:
                found[row["category"]] = JudgePrompt(row["system_prompt"], row["prompt_template"], {})
        except KeyError as exc:
            raise TunaError(f"{path}:{number}: judge prompt without key {exc}") from exc
    if "general" not in found:
        raise TunaError(f"{path}: no 'general' {style} judge prompt found (wrong file for style '{style}'?)")
    return found


def judge_messages(prompt: JudgePrompt, question: str, first: str, second: str) -> list[dict]:
    """Chat messages asking the judge about two answers, `first` shown as Assistant 1 / A."""
    user = prompt.template.format(question=question, answer_1=first, answer_2=second,
                                  answer_a=first, answer_b=second, **prompt.extra)
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": user}]


_NUMBER = r"(\d+(?:\.\d+)?)"


def parse_review(text: str) -> tuple[float, float] | None:
    """Two 1-10 scores: '8 9' / '8, 9' / '(8, 9)' / '8/10 and 9/10' on the first line with numbers,
    else 'Assistant 1: 8 ... Assistant 2: 9' anywhere."""
    for line in text.splitlines():
        numbers = re.findall(_NUMBER + r"(?:\s*/\s*10)?", line)
        if len(numbers) == 2 and not re.search(r"assistant\s*[12]", line, re.IGNORECASE):
            return float(numbers[0]), float(numbers[1])
        if numbers:
            break
    labelled = [re.search(rf"assistant\s*{k}\D{{0,20}}?{_NUMBER}", text, re.IGNORECASE) for k in (1, 2)]
    if all(labelled):
        return float(labelled[0].group(1)), float(labelled[1].group(1))
    return None


def parse_pairwise(text: str) -> str | None:
    """'A', 'B' or 'C' from the last [[X]] (or [X], or 'verdict: X') the judge wrote."""
    for pattern in (r"\[\[\s*([ABC])\s*\]\]", r"\[\s*([ABC])\s*\]", r"verdict\W{0,5}(?:assistant\s+)?([ABC])\b"):
        found = re.findall(pattern, text, re.IGNORECASE if "verdict" in pattern else 0)
        if found:
            return found[-1].upper()
    return None


def order_verdict(style: str, text: str, order: str) -> tuple[Outcome | None, list[float] | None]:
    """The model's result in one judged order, or (None, None) if the text has no verdict."""
    if style == "review":
        scores = parse_review(text)
        if scores is None:
            return None, None
        first_wins = scores[0] > scores[1]
        winner = "first" if first_wins else "second" if scores[1] > scores[0] else "tie"
    else:
        letter = parse_pairwise(text)
        if letter is None:
            return None, None
        scores, winner = None, {"A": "first", "B": "second", "C": "tie"}[letter]
    if winner == "tie":
        return "tie", scores and list(scores)
    model_is_first = order == "model_first"
    return ("model" if (winner == "first") == model_is_first else "baseline"), scores and list(scores)


def judge_pairs(provider: Provider, prompts: dict[str, JudgePrompt], questions: list[Question],
                model: dict[str, str], baseline: dict[str, str], style: str, retries: int, max_tokens: int,
                constrained: bool, orders: tuple[str, ...] = ORDERS) -> list[PairJudgement]:
    """Every question in each of `orders`, each asked until it has a verdict (tuna.judging), every attempt kept.

    A question gets the judge prompt of its category (else the general one); the system
    prompt and the question go to the judge as one turn of its template.
    """
    keys = [(q, order) for q in questions for order in orders]

    def request(key, attempt: int) -> Request:
        question, order = key
        prompt = prompts.get(prompt_category(question.category), prompts["general"])
        first, second = model[question.id], baseline[question.id]
        if order == "baseline_first":
            first, second = second, first
        text = "\n\n".join(m["content"] for m in judge_messages(prompt, question.text, first, second))
        return Request(text, n=1, temperature=temperature(attempt), max_tokens=max_tokens, seed=attempt,
                       logprobs=False, json_schema=VERDICT_SCHEMAS[style] if constrained else None)

    def parse(key, text: str):
        verdict, scores = order_verdict(style, text, key[1])
        if verdict is None:
            raise ValueError(f"no {style} verdict in the answer")
        return verdict, scores

    attempts, verdicts = ask_until_usable(provider, keys, request, parse, retries, desc="vicuna judge")
    out = []
    for key in keys:
        question, order = key
        verdict, scores = verdicts.get(key, (None, None))
        out.append(PairJudgement(id=question.id, category=question.category, order=order, judge=provider.name,
                                 style=style, attempts=attempts[key], verdict=verdict, scores=scores,
                                 used=len(attempts[key]) - 1 if verdict else None))
    return out


def combine(verdicts: list[Outcome | None]) -> Outcome | None:
    """The orders agree (or one was judged): that verdict; they disagree: tie; any order unparsed: None."""
    if None in verdicts:
        return None
    return verdicts[0] if len(set(verdicts)) == 1 else "tie"


def summarize(judgements: list[PairJudgement]) -> dict:
    """Win/lose/tie counts and rates (over parsed questions), overall and per category."""
    by_question: dict[str, list[PairJudgement]] = {}
    for judgement in judgements:
        by_question.setdefault(judgement.id, []).append(judgement)
    outcomes = {qid: (pair[0].category, combine([j.verdict for j in pair])) for qid, pair in by_question.items()}

    def tally(items) -> dict:
        counts = Counter(verdict for _, verdict in items)
        parsed = counts["model"] + counts["baseline"] + counts["tie"]
        rate = (lambda k: round(100.0 * counts[k] / parsed, 2) if parsed else 0.0)
        return {"win": counts["model"], "lose": counts["baseline"], "tie": counts["tie"],
                "unparsed": counts[None], "questions": len(items),
                "win_rate": rate("model"), "lose_rate": rate("baseline"), "tie_rate": rate("tie")}

    categories = sorted({category for category, _ in outcomes.values()})
    return {**tally(list(outcomes.values())),
            "orders": list(dict.fromkeys(j.order for j in judgements)),
            "position_consistency": position_consistency(by_question.values()),
            "per_category": {c: tally([o for o in outcomes.values() if o[0] == c]) for c in categories},
            "attempts": sum(len(j.attempts) for j in judgements),
            "failed_calls": sum(a.outcome == "failed" for j in judgements for a in j.attempts),
            # question id -> model / baseline / tie / None (unparsed), for the paired tests of the report
            "per_question": {qid: verdict for qid, (_, verdict) in outcomes.items()}}


def write_prompts(questions: str, out: Path) -> str:
    """Vicuna QA's questions (a question.jsonl, or `demo` for tuna's own) as prompt records."""
    from tuna import provenance
    from tuna.records import write_jsonl

    source = questions_file(questions)
    count = write_jsonl(out, prompts(load_questions(source)))
    provenance.stamp([out], inputs=[source], params={"benchmark": "vicuna"})
    return f"{out}: {count} vicuna prompts"
def position_consistency(pairs) -> dict | None:
    """How often the two orders of a question give the same verdict (None: one order judged).

    Over the questions with a verdict in both orders; a model that wins in one order and
    ties in the other counts as inconsistent.
    """
    both = [[j.verdict for j in pair] for pair in pairs if len(pair) == 2]
    if not both:
        return None
    parsed = [v for v in both if None not in v]
    agree = sum(v[0] == v[1] for v in parsed)
    return {"agree": agree, "questions": len(parsed), "rate": round(100.0 * agree / len(parsed), 2) if parsed else None}
