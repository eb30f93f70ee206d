"""Training examples: ranked (or plain instruction) jsonl -> token ids, with the bad-data rules.

Every response is tokenized as the model will be trained on it: the prompt built by
tuna.prompts.build_prompt with the model's template, then the response tokens and
the tokenizer's EOS token (the paper's |r| counts the EOS).

Every ranked candidate is kept: examples may have any number of candidates (counted per
count N in the training log and provenance, tuna.train.data.candidate_counts), and
candidates may share a rank group (ties, `RankedCandidate.rank`); the losses take them
ragged (tuna.train.ranks).

Bad data never reaches torch; each rule is counted and the counts are logged:
  - failed or empty candidates (finish_reason 'error'/'empty'): left out of the ranking
    ("failed or empty responses left out"); the rank groups left are renumbered 0, 1, ...;
  - a ranking objective (any but mle) and fewer than 2 candidates: skipped ("fewer than 2 candidates");
  - a ranking objective and every candidate in one tie group: skipped, no pair to rank
    ("candidates all tied");
  - the original response is needed (objective mle, or mle_weight > 0) but empty:
    skipped ("no original response");
  - the prompt leaves no room for a response within max_length: skipped
    ("prompt too long");
  - prompt + response + EOS longer than max_length: the response is cut to fit and
    loses its EOS ("responses truncated to max_length");
  - max_examples K set: only the first K usable examples in file order are kept, before
    any shuffling, so a smaller K trains on a prefix of a larger K's data ("beyond
    max_examples").
The held-out split (tuna.datasets.split_held_out) is applied first: training drops the
held-out ids ("held out"), evaluation on the split keeps only them ("not held out").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tuna.datasets import load_alpaca, read_records
from tuna.errors import TunaError
from tuna.prompts import build_prompt
from tuna.records import Ranking, answered
from tuna.train.loss import TunaLoss
from tuna.train.ranks import dense_ranks


@dataclass
class Example:
    """One training example: the shared prompt and its responses (candidates best first, then
    the original), with each candidate's rank group (0 = best, ties share one; default: positions)
    and, for objective dpo, each candidate's summed log-prob under the frozen reference
    (tuna.train.reference)."""

    id: str
    prompt: list[int]
    candidates: list[list[int]]
    original: list[int] | None
    ranks: list[int] | None = None
    reference: list[float] | None = None

    def __post_init__(self):
        if self.ranks is None:
            self.ranks = list(range(len(self.candidates)))

    @property
    def responses(self) -> list[list[int]]:
        return self.candidates + ([self.original] if self.original is not None else [])


def prompt_ids(tokenizer, prompt: str) -> list[int]:
    """Prompt tokens with the tokenizer's own special tokens, BOS once even if the template wrote it."""
    ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    bos = tokenizer.bos_token_id
    if bos is not None and len(ids) > 1 and ids[0] == ids[1] == bos:
        ids = ids[1:]
    return ids


def load_examples(path: Path, tokenizer, template: str, loss: TunaLoss, max_length: int,
                  max_examples: int | None = None, held_out: frozenset[str] = frozenset(),
                  only_held_out: bool = False) -> tuple[list[Example], Counter]:
    """Tokenized examples (the first max_examples usable ones, if set) and a Counter of the
    bad-data rules applied (see module doc). `path` is ranked or instruction jsonl, or an
    Alpaca-format .json array. Records whose id is in `held_out` are dropped,
    or, with only_held_out, are the only ones kept."""
    records = load_alpaca(path) if path.suffix == ".json" else read_records(path)
    if loss.ranked and records and not isinstance(records[0], Ranking):
        raise TunaError(f"{path}: objective '{loss.objective}' needs ranked records (with 'candidates'), "
                        "got plain instructions")
    if tokenizer.eos_token_id is None:
        raise TunaError("the tokenizer has no EOS token; responses must end with one")
    report = Counter(read=len(records))
    selected = [r for r in records if (r.id in held_out) == only_held_out]
    report["not held out" if only_held_out else "held out"] = len(records) - len(selected)
    records = [_answered_only(r, report) for r in selected]
    records = [r for r in records if _keep(r, loss, report)]
    examples = []
    for record in records:
        ranked = record.candidates if loss.uses_candidates and isinstance(record, Ranking) else []
        texts = [c.text for c in ranked] + ([record.output] if loss.uses_original else [])
        encoded = encode(tokenizer, template, record.instruction, record.input, texts, max_length, report)
        if encoded is None:
            continue
        prompt, responses = encoded
        original = responses.pop() if loss.uses_original else None
        ranks = dense_ranks(record.ranks()) if ranked else []
        examples.append(Example(record.id, prompt, responses, original, ranks))
    if max_examples is not None and len(examples) > max_examples:
        report["beyond max_examples"] = len(examples) - max_examples
        examples = examples[:max_examples]
    report["kept"] = len(examples)
    return examples, report


def encode(tokenizer, template: str, instruction: str, input: str, texts: list[str], max_length: int,
           report: Counter) -> tuple[list[int], list[list[int]]] | None:
    """The prompt's token ids and each text's (+ EOS, cut to max_length with the prompt); None
    when the prompt leaves no room for a response. Rules applied are counted in `report`."""
    prompt_text = build_prompt(template, instruction, input, chat_template=getattr(tokenizer, "chat_template", None),
                               bos_token=tokenizer.bos_token or "", eos_token=tokenizer.eos_token or "")
    prompt = prompt_ids(tokenizer, prompt_text)
    room = max_length - len(prompt)
    if room < 1:
        report["prompt too long"] += 1
        return None
    responses = [ids + [tokenizer.eos_token_id] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    report["responses truncated to max_length"] += sum(len(r) > room for r in responses)
    return prompt, [r[:room] for r in responses]


def _answered_only(record, report: Counter):
    """The record without failed or empty candidates (stages mark them; they are never trained on)."""
    if not isinstance(record, Ranking):
        return record
    kept = [c for c in record.candidates if answered(c)]
    report["failed or empty responses left out"] += len(record.candidates) - len(kept)
    return record if len(kept) == len(record.candidates) else record.model_copy(update={"candidates": kept})


def _keep(record, loss: TunaLoss, report: Counter) -> bool:
    if loss.ranked and len(record.candidates) < 2:
        report["fewer than 2 candidates"] += 1
        return False
    if loss.ranked and len(set(record.ranks())) < 2:
        report["candidates all tied"] += 1
        return False
    if loss.uses_original and not record.output.strip():
        report["no original response"] += 1
        return False
    return True


def describe(report: Counter) -> str:
    """One log line: how many examples were kept and why the others were not."""
    rules = ", ".join(f"{rule}: {count}" for rule, count in report.items() if rule not in ("read", "kept") and count)
    return f"{report['kept']} of {report['read']} examples kept" + (f" ({rules})" if rules else "")


def candidate_counts(examples: list[Example]) -> dict[str, int]:
    """How many examples have each number of candidates, most candidates first: {"4": 10, "3": 2}."""
    tally = Counter(len(e.candidates) for e in examples)
    return {str(n): tally[n] for n in sorted(tally, reverse=True)}
