"""A model's training data from the data algebra: slices and concatenations of data sets.

Slices are taken in each file's stable order (the instructions' order), so Tuna_cp-13K
(`first: 13000`) and Tuna_cp-39K (`last: 39000`) of one ranking file never overlap. The
parts are concatenated and shuffled with the model's seed. Alpaca-Mul turns each ranked
record into 1 + N supervised pairs: the original response and every teacher response
that did not fail.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from tuna.datasets import read_records
from tuna.errors import TunaError
from tuna.records import Instruction, Ranking


def parse_slice(text: str) -> tuple[int, int | None] | None:
    """'all' -> None; 'first:K' -> (0, K); 'last:K' -> (-K, None); 'range:A:B' -> (A, B)."""
    kind, _, rest = text.partition(":")
    try:
        numbers = [int(n) for n in rest.split(":")] if rest else []
    except ValueError:
        numbers = None
    expected = {"all": 0, "first": 1, "last": 1, "range": 2}.get(kind)
    if numbers is None or expected is None or len(numbers) != expected:
        raise TunaError(f"slice '{text}': expected all, first:K, last:K or range:A:B")
    if kind == "all":
        return None
    if kind == "first":
        return 0, numbers[0]
    if kind == "last":
        return -numbers[0], None
    return numbers[0], numbers[1]


def take(records: Sequence, how: str, source: str) -> list:
    """The slice `how` of records; a slice past the end is an error, never a silent shortfall."""
    bounds = parse_slice(how)
    if bounds is None:
        return list(records)
    start, stop = bounds
    end = stop if stop is not None else -start
    if end > len(records):
        raise TunaError(f"{source}: slice {how} is past the end ({len(records)} records)")
    return list(records[start:stop])


def alpaca_mul(rankings: Sequence[Ranking]) -> list[Instruction]:
    """The original response and each usable teacher response as its own pair (Alpaca-Mul)."""
    pairs = []
    for r in rankings:
        texts = [r.output] + [c.text for c in r.candidates if c.finish_reason not in ("error", "empty")]
        pairs += [Instruction(id=f"{r.id}#{k}" if k else r.id, instruction=r.instruction, input=r.input,
                              output=text) for k, text in enumerate(texts) if text.strip()]
    return pairs


def build(parts: Sequence[tuple[Path, str]], seed: int, mul: bool = False) -> tuple[list, list[int]]:
    """The shuffled concatenation of the parts' slices, and how many records each part gave."""
    records, counts = [], []
    for path, how in parts:
        chosen = take(read_records(path), how, str(path))
        if mul:
            if chosen and not isinstance(chosen[0], Ranking):
                raise TunaError(f"{path}: Alpaca-Mul needs ranked teacher responses (records with 'candidates')")
            chosen = alpaca_mul(chosen)
        counts.append(len(chosen))
        records += chosen
    kinds = {type(r).__name__ for r in records}
    if len(kinds) > 1:
        raise TunaError("a mixture holds ranked records or instruction records, not both")
    random.Random(seed).shuffle(records)
    return records, counts


def mix(parts: Sequence[tuple[Path, str]], seed: int, mul: bool, out: Path) -> str:
    """`tuna mix-data`: a model's training data written to OUT and stamped; its summary."""
    from tuna import provenance
    from tuna.records import write_jsonl

    records, counts = build(parts, seed, mul)
    write_jsonl(out, records)
    provenance.stamp([out], inputs=[path for path, _ in parts],
                     params={"parts": [[str(path), how] for path, how in parts], "alpaca_mul": mul, "seed": seed,
                             "counts": counts})
    return f"{out}: {len(records)} records (" + ", ".join(
        f"{path} {how}: {count}" for (path, how), count in zip(parts, counts, strict=True)) + ")"
