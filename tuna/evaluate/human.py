"""Human evaluation: annotators rank responses they cannot attribute.

Two kinds of sheets, written and read the same way. Table 2: per Vicuna question, the
answers of the compared models. Appendix G: per contextual-ranking example, the
candidates the judge ranked, so the judge's ranks can be checked against humans'.
Export writes, per item, the responses in a seeded random order under neutral labels
(Response 1..k) plus empty rank columns; the label -> source key (the model, or the
judge's rank) goes to a separate file that annotators never see. Import reads the
filled-in ranks (1 = best), one sheet per annotator. Table 2 gives the answer at rank i
the score `top - i` (6 - i in the paper); "each question was annotated by two different
annotators, and the score was averaged": a question's score is the mean over the
annotators who ranked it, a model's the mean over questions, and each question's
averaged score is kept for the paired tests. How far annotators agree is reported with
it (Kendall's W per question, Spearman's rho per pair of annotators). Appendix G
correlates each example's human ranks with the judge's.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import numpy as np
from scipy import stats

from tuna.errors import TunaError
from tuna.evaluate.vicuna import Question
from tuna.prompts import user_message
from tuna.records import Ranking, atomic_output

JUDGE_RANK = "judge_rank"  # key column of ranking sheets: the judge's rank of the response (1 = best)


def export_items(items: list[tuple[str, str, dict[str, str]]], sheet: str | Path, key: str | Path, seed: int = 0,
                 source: str = "model") -> int:
    """Write the sheet and its key for items (id, prompt, {source: response}); return how many."""
    rng = random.Random(seed)
    sheet_rows, key_rows = [], []
    for item_id, prompt, responses in items:
        labels = [f"response_{i}" for i in range(1, len(responses) + 1)]
        order = rng.sample(list(responses), len(responses))
        sheet_rows.append({"question_id": item_id, "question": prompt,
                           **{label: responses[s] for label, s in zip(labels, order, strict=True)},
                           **{f"rank_{label}": "" for label in labels}})
        key_rows += [{"question_id": item_id, "label": label, source: s} for label, s in zip(labels, order, strict=True)]
    _write_csv(sheet, sheet_rows)
    _write_csv(key, key_rows)
    return len(sheet_rows)


def export(questions: list[Question], answers: dict[str, dict[str, str]], sheet: str | Path, key: str | Path,
           seed: int = 0) -> int:
    """Table 2: the Vicuna answers of every model in `answers`, per question."""
    items = []
    for question in questions:
        missing = [m for m in answers if question.id not in answers[m]]
        if missing:
            raise TunaError(f"model '{missing[0]}' has no answer to question {question.id}")
        items.append((question.id, question.text, {m: answers[m][question.id] for m in answers}))
    return export_items(items, sheet, key, seed)


def export_rankings(rankings: list[Ranking], sheet: str | Path, key: str | Path, limit: int, seed: int = 0) -> int:
    """Appendix G: `limit` judge-ranked examples (a seeded sample), their candidates shuffled."""
    judged = [r for r in rankings if r.source == "judge" and len(r.candidates) >= 2]
    if not judged:
        raise TunaError("no judge-ranked example with two or more candidates to export")
    chosen = sorted(random.Random(seed).sample(range(len(judged)), min(limit, len(judged))))
    items = [(judged[i].id, user_message(judged[i].instruction, judged[i].input),
              {str(rank): c.text for rank, c in enumerate(judged[i].candidates, start=1)}) for i in chosen]
    return export_items(items, sheet, key, seed, source=JUDGE_RANK)


def _write_csv(path: str | Path, rows: list[dict]) -> None:
    with atomic_output(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["question_id"])
        writer.writeheader()
        writer.writerows(rows)


def _read_csv(path: str | Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise TunaError(f"{path}: cannot read ({exc.strerror})") from exc


def read_ranks(sheet: str | Path, key: str | Path, source: str = "model", top: int = 6) -> dict[str, dict[str, int]]:
    """Item id -> {source: the annotator's rank} from a filled-in sheet (empty cells skipped)."""
    try:
        labels = {(row["question_id"], row["label"]): row[source] for row in _read_csv(key)}
    except KeyError as exc:
        raise TunaError(f"{key}: not a key file (needs columns question_id, label, {source})") from exc
    ranks: dict[str, dict[str, int]] = defaultdict(dict)
    for line, row in enumerate(_read_csv(sheet), start=2):
        for column, value in row.items():
            if not column.startswith("rank_") or not (value or "").strip():
                continue
            origin = labels.get((row["question_id"], column[len("rank_"):]))
            if origin is None:
                raise TunaError(f"{sheet}:{line}: {column}: no such response in the key {key}")
            try:
                rank = int(value)
            except ValueError:
                raise TunaError(f"{sheet}:{line}: {column}: rank must be a whole number, got {value!r}") from None
            if not 1 <= rank < top:
                raise TunaError(f"{sheet}:{line}: {column}: rank {rank} outside 1..{top - 1}")
            ranks[row["question_id"]][origin] = rank
    if not ranks:
        raise TunaError(f"{sheet}: no ranks filled in")
    return dict(ranks)


def import_ranks(sheets: str | Path | list[str | Path], key: str | Path, top: int = 6) -> dict[str, dict]:
    """Per model: mean score (top - rank; a question's score averaged over its annotators), mean
    rank, ratings given, and each question's averaged score (for the paired tests). One sheet per annotator."""
    sheets = [sheets] if isinstance(sheets, (str, Path)) else list(sheets)
    ratings: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for sheet in sheets:
        for question, ranks in read_ranks(sheet, key, "model", top).items():
            for model, rank in ranks.items():
                ratings[model][question].append(top - rank)
    out = {}
    for model, by_question in ratings.items():
        per_question = {q: float(np.mean(scores)) for q, scores in by_question.items()}
        mean = float(np.mean(list(per_question.values())))
        out[model] = {"score": round(mean, 3), "mean_rank": round(top - mean, 3),
                      "ratings": sum(map(len, by_question.values())), "questions": len(per_question),
                      "per_question": per_question}
    return out


def annotator_agreement(sheets: list[str | Path], key: str | Path, top: int = 6) -> dict | None:
    """How far several annotators' rankings agree (None with one sheet): Kendall's W (with the
    tie correction) per question ranked by two or more annotators, its mean, and Spearman's rho
    of each pair of annotators over the (question, model) ranks both gave, averaged per question."""
    if len(sheets) < 2:
        return None
    ranks = [read_ranks(sheet, key, "model", top) for sheet in sheets]
    names = [Path(sheet).stem for sheet in sheets]
    per_question = {}
    for question in sorted({q for sheet in ranks for q in sheet}):
        raters = [sheet[question] for sheet in ranks if question in sheet]
        models = sorted(set.intersection(*(set(r) for r in raters)))
        if len(raters) >= 2 and len(models) >= 2:
            per_question[question] = kendall_w([[r[m] for m in models] for r in raters])
    pairs = {}
    for i, j in combinations(range(len(sheets)), 2):
        rhos = []
        for question in set(ranks[i]) & set(ranks[j]):
            models = sorted(set(ranks[i][question]) & set(ranks[j][question]))
            a, b = [ranks[i][question][m] for m in models], [ranks[j][question][m] for m in models]
            if len(models) >= 2 and len(set(a)) > 1 and len(set(b)) > 1:
                rhos.append(float(stats.spearmanr(a, b).statistic))
        pairs[f"{names[i]}~{names[j]}"] = round(float(np.mean(rhos)), 4) if rhos else None
    defined = [w for w in per_question.values() if w is not None]
    return {"annotators": names, "questions": len(per_question),
            "mean_kendall_w": round(float(np.mean(defined)), 4) if defined else None,
            "mean_spearman_by_pair": pairs, "kendall_w_per_question": per_question}


def kendall_w(ranks: list[list[float]]) -> float | None:
    """Kendall's coefficient of concordance of m raters' ranks of the same n items, corrected
    for tied ranks: 1 = the raters agree completely, 0 = no agreement (None: undefined)."""
    matrix = np.array([stats.rankdata(row) for row in ranks])  # ranks 1..n per rater, ties averaged
    m, n = matrix.shape
    sums = matrix.sum(axis=0)
    s = float(((sums - sums.mean()) ** 2).sum())
    ties = sum(float((counts ** 3 - counts).sum()) for counts in
               (np.unique(row, return_counts=True)[1] for row in matrix))
    denominator = m ** 2 * (n ** 3 - n) - m * ties
    return round(12 * s / denominator, 4) if denominator > 0 else None


def ranking_agreement(sheet: str | Path, key: str | Path) -> dict:
    """Appendix G: Spearman's rho between the judge's and the annotators' ranks of each
    example's candidates, and its mean over examples (examples with fewer than two ranks,
    or one side all tied, have no rho and are counted apart)."""
    per_example, undefined = {}, 0
    for example, ranks in read_ranks(sheet, key, JUDGE_RANK, top=10**6).items():
        judge = [int(position) for position in ranks]
        human = list(ranks.values())
        if len(ranks) < 2 or len(set(human)) < 2:
            undefined += 1
            continue
        per_example[example] = float(stats.spearmanr(judge, human).statistic)
    rhos = list(per_example.values())
    return {"examples": len(rhos), "undefined": undefined,
            "mean_spearman": round(float(np.mean(rhos)), 4) if rhos else None,
            "median_spearman": round(float(np.median(rhos)), 4) if rhos else None,
            "per_example": per_example}
