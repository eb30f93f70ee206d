"""The human-evaluation stages, file in, file out: what `human-export`, `human-import`,
`human-export-ranking` and `human-agreement` do (the sheets and their reading are
tuna.evaluate.human's). Each writes its outputs with their provenance stamps and returns
the one-line summary the command prints."""

from __future__ import annotations

from pathlib import Path

from tuna import provenance
from tuna.evaluate import human
from tuna.records import Ranking, answers_of, read_jsonl, write_json


def export_answers(questions: str, answers: dict[str, Path], seed: int, out: Path, key: Path) -> str:
    """Table 2's sheet: every model's Vicuna answer to each question (a question.jsonl, or `demo`),
    shuffled and anonymized; which is which goes to KEY."""
    from tuna.evaluate import vicuna

    source = vicuna.questions_file(questions)
    count = human.export(vicuna.load_questions(source), {m: answers_of(p) for m, p in answers.items()}, out, key, seed)
    provenance.stamp([out, key], inputs=[source, *answers.values()], params={"seed": seed})
    return f"{out}: {count} questions x {len(answers)} responses (key: {key})"


def import_scores(sheets: list[Path], key: Path, top: int, out: Path) -> str:
    """Annotators' rankings (one sheet each) as per-model scores (TOP - rank averaged over annotators,
    then questions; each question's kept), with the inter-annotator agreement when there are two or more."""
    scores = human.import_ranks(sheets, key, top)
    agreement = human.annotator_agreement(sheets, key, top)
    write_json(out, {"top": top, "annotators": [str(s) for s in sheets], "agreement": agreement, "models": scores})
    provenance.stamp([out], inputs=[*sheets, key], params={"top": top})
    return (f"{out}: " + ", ".join(f"{m} {s['score']:.2f}" for m, s in scores.items())
            + (f"; {len(sheets)} annotators, mean Kendall's W {agreement['mean_kendall_w']}" if agreement else ""))


def export_rankings(ranked: Path, limit: int, seed: int, out: Path, key: Path) -> str:
    """Appendix G's sheet: a seeded sample of judge-ranked examples, candidates shuffled and anonymized."""
    count = human.export_rankings(read_jsonl(ranked, Ranking), out, key, limit, seed)
    provenance.stamp([out, key], inputs=[ranked], params={"limit": limit, "seed": seed})
    return f"{out}: {count} ranking examples (key: {key})"


def ranking_agreement(sheet: Path, key: Path, out: Path) -> str:
    """Spearman correlation between the judge's and the annotators' rankings, per example and mean."""
    agreement = human.ranking_agreement(sheet, key)
    write_json(out, agreement)
    provenance.stamp([out], inputs=[sheet, key])
    return f"{out}: mean Spearman {agreement['mean_spearman']} over {agreement['examples']} examples"
