"""Preference data from elsewhere as tuna's ranked records (source "preferences").

Listwise rows (UltraFeedback: a prompt, 4 completions, a rating each) become one ranking
each: responses sorted by score (higher first) or rank (lower first), or as listed;
equal scores or ranks form one rank group (`RankedCandidate.rank`), a tie that no
objective makes a pair of.

Pairwise rows (HH-RLHF: a prompt, a chosen and a rejected response) are merged per
prompt: when the pairs of one prompt, closed under transitivity, order its responses
into rank groups (a weak order: each response is preferred to every response of every
later group), they become one ranking whose groups hold responses no pair compares
(a>b and a>c give a > {b, c}). Otherwise (a>b and c>d, or a cycle) each pair is kept as
a 2-response ranking of its own, so no preference is invented.

Empty responses are left out and counted; rows with fewer than 2 responses left are
counted and dropped. Records get tuna's content ids of (instruction, input), as every
instruction data set does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from tuna.config.models import HUB_PREFIX, PreferenceFields
from tuna.datasets import stable_ids
from tuna.errors import TunaError
from tuna.preferences import summary
from tuna.preferences.fields import lookup, lookup_list, number, prompt_text, response_text
from tuna.records import RankedCandidate, Ranking, json_objects
from tuna.sources import resolve

SOURCE = "preferences"


def locate(location: str) -> Path:
    """The file of a preference data location: the one place a location is resolved (a path now; a Hub
    data set, `hf:ORG/NAME`, once Hub ids land)."""
    if location.startswith(HUB_PREFIX):
        raise TunaError(f"{location}: Hub data sets ({HUB_PREFIX}ORG/NAME) are not supported yet; "
                        "give a JSON Lines or JSON file")
    return resolve(location)


def read_preferences(location: str, format: str, fields: PreferenceFields) -> tuple[list[Ranking], Counter]:
    """Ranked records of a preference data file, and counts of what was read, merged and left out."""
    path = locate(location)
    report = Counter()
    rows = ((f"{path}:{line}", row) for line, row in json_objects(path))
    if format == "listwise":
        rankings = _listwise(rows, fields, report)
    else:
        rankings = _pairwise(rows, fields, report)
    report["rankings"] = len(rankings)
    return rankings, report


def import_preferences(location: str, format: str, fields: PreferenceFields, out: Path) -> str:
    """`tuna import-preferences`: the rankings of the preference data at `location` written to OUT,
    stamped; a line of what was read and left out."""
    from tuna import provenance
    from tuna.records import write_jsonl

    rankings, report = read_preferences(location, format, fields)
    write_jsonl(out, rankings)
    provenance.stamp([out], inputs=[locate(location)],
                     params={"format": format, "fields": fields.model_dump(), "location": location},
                     extra={"counts": dict(report)})
    return summary(report, f"{out}: {report['rankings']} rankings from {report['rows']} rows")


def _task(row: object, fields: PreferenceFields, where: str) -> tuple[str, str, str]:
    """(instruction, input, original response) of a row."""
    instruction = prompt_text(lookup(row, fields.prompt, where), fields.prompt, where)
    if not instruction.strip():
        raise TunaError(f"{where}: field '{fields.prompt}': empty prompt")
    input = prompt_text(lookup(row, fields.input, where), fields.input, where) if fields.input else ""
    output = response_text(lookup(row, fields.output, where), fields.output, where) if fields.output else ""
    return instruction, input, output


def _listwise(rows: Iterator[tuple[str, object]], fields: PreferenceFields, report: Counter) -> list[Ranking]:
    kept = []
    for where, row in rows:
        report["rows"] += 1
        task = _task(row, fields, where)
        texts = [response_text(value, _item(fields.completions, k), where)
                 for k, value in enumerate(lookup_list(row, fields.completions, where))]
        key = fields.ranks or fields.scores
        values = lookup_list(row, key, where) if key else list(range(len(texts)))
        if len(values) != len(texts):
            raise TunaError(f"{where}: field '{key}': {len(values)} values for the {len(texts)} responses in "
                            f"'{fields.completions}'")
        values = [number(v, _item(key, k), where) for k, v in enumerate(values)] if key else values
        sign = -1 if key and not fields.ranks else 1  # scores: higher first; ranks, positions: lower first
        answered = [(sign * value, k) for k, value in enumerate(values) if texts[k].strip()]
        report["empty responses left out"] += len(texts) - len(answered)
        if len(answered) < 2:
            report["rows with fewer than 2 responses"] += 1
            continue
        groups = {value: group for group, value in enumerate(sorted({value for value, _ in answered}))}
        candidates = [RankedCandidate(text=texts[k], score=values[k] if sign < 0 else None, rank=groups[value])
                      for value, k in sorted(answered)]
        report["rankings with ties"] += len(groups) < len(candidates)
        kept.append((task, candidates))
    ids = stable_ids((instruction, input) for (instruction, input, _), _ in kept)
    return [Ranking(id=ident, instruction=instruction, input=input, output=output, candidates=candidates,
                    source=SOURCE) for ident, ((instruction, input, output), candidates) in zip(ids, kept, strict=True)]


def _pairwise(rows: Iterator[tuple[str, object]], fields: PreferenceFields, report: Counter) -> list[Ranking]:
    prompts: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]] = {}  # (instruction, input) -> output, pairs
    for where, row in rows:
        report["rows"] += 1
        instruction, input, output = _task(row, fields, where)
        chosen, rejected = (response_text(lookup(row, field, where), field, where)
                            for field in (fields.chosen, fields.rejected))
        if not (chosen.strip() and rejected.strip()):
            report["pairs with an empty response left out"] += 1
            continue
        if chosen == rejected:
            report["pairs of one response twice left out"] += 1
            continue
        _, pairs = prompts.setdefault((instruction, input), (output, []))
        if (chosen, rejected) not in pairs:
            pairs.append((chosen, rejected))
    rankings = []
    for ident, ((instruction, input), (output, pairs)) in zip(stable_ids(prompts), prompts.items(), strict=True):
        ranks = weak_order(pairs)
        if ranks is not None:
            report["prompts whose pairs form one ranking" if len(pairs) > 1 else "prompts with one pair"] += 1
            orders = [[(text, rank) for text, rank in sorted(ranks.items(), key=lambda item: item[1])]]
        else:
            report["prompts whose pairs stay apart (no weak order)"] += 1
            orders = [[(chosen, 0), (rejected, 1)] for chosen, rejected in pairs]
        for k, order in enumerate(orders):
            rankings.append(Ranking(id=f"{ident}#{k}" if k else ident, instruction=instruction, input=input,
                                    output=output, source=SOURCE,
                                    candidates=[RankedCandidate(text=text, rank=rank) for text, rank in order]))
    return rankings


def weak_order(pairs: list[tuple[str, str]]) -> dict[str, int] | None:
    """Each response's rank group (0 = best), in first-seen order within a group, when the (better, worse)
    pairs closed under transitivity are a weak order; None when they are not (or hold a cycle)."""
    responses = list(dict.fromkeys(text for pair in pairs for text in pair))
    worse = {text: set() for text in responses}
    for better, other in pairs:
        worse[better].add(other)
    for middle in responses:  # Warshall: transitive closure
        for text in responses:
            if middle in worse[text]:
                worse[text] |= worse[middle]
    if any(text in worse[text] for text in responses):
        return None
    ranks, left, group = {}, list(responses), 0
    while left:  # peel off the responses nothing left is preferred to
        top = [text for text in left if not any(text in worse[other] for other in left)]
        ranks |= dict.fromkeys(top, group)
        left, group = [text for text in left if text not in top], group + 1
    if any(ranks[a] < ranks[b] and b not in worse[a] for a in responses for b in responses):
        return None
    return ranks


def _item(path: str, k: int) -> str:
    """The field of the k-th value of a list path, for errors (`completions.*.score` -> `completions.2.score`)."""
    return path.replace("*", str(k), 1) if "*" in path else f"{path}.{k}"
