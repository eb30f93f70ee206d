"""The benchmark stages, file in, file out: what `fetch-superni`, `fetch-lmentry`,
`eval-prompts`, `eval-superni` and `eval-lmentry` do.

Each writes its outputs with their provenance stamps and returns the one-line summary
the command prints. The benchmarks themselves (task files, prompts, scorers) live in
tuna.evaluate.superni, lmentry and vicuna.
"""

from __future__ import annotations

from pathlib import Path

from tuna import datasets, provenance
from tuna.config.settings import SuperNI
from tuna.errors import TunaError
from tuna.records import answers_of, write_json, write_jsonl


def fetch_superni(split: Path, commit: str | None, out: Path) -> str:
    """The task files of a Super-NaturalInstructions split from a pinned commit. They have no
    published checksums: each file's sha256 goes into OUT/provenance.json, so a later
    download can be compared."""
    from tuna.evaluate import superni

    commit = commit or superni.UPSTREAM_COMMIT
    names = superni.read_task_names(split)
    digests = datasets.fetch_all({n: (superni.TASK_URL.format(commit=commit, task=n), None) for n in names}, out)
    provenance.stamp([out], inputs=[split], params={"commit": commit}, extra={"sha256": digests})
    return f"{out}: {len(names)} task files at allenai/natural-instructions@{commit}"


def fetch_lmentry(out: Path) -> str:
    """The 41 LMentry data files from the pinned commit, each checked by its git blob sha1."""
    from tuna.evaluate import lmentry

    commit = lmentry.UPSTREAM_COMMIT
    digests = datasets.fetch_all({n: (lmentry.FILE_URL.format(commit=commit, name=n), lmentry.FILE_BLOBS[n])
                                  for n in lmentry.FILES}, out)
    provenance.stamp([out], params={"commit": commit}, extra={"sha256": digests})
    return f"{out}: {len(digests)} LMentry files at aviaefrat/lmentry@{commit}"


def vicuna_prompts(questions: str, out: Path) -> str:
    """Vicuna QA's questions (a question.jsonl, or `demo` for tuna's own) as prompt records."""
    from tuna.evaluate import vicuna

    source = vicuna.questions_file(questions)
    count = write_jsonl(out, vicuna.prompts(vicuna.load_questions(source)))
    provenance.stamp([out], inputs=[source], params={"benchmark": "vicuna"})
    return f"{out}: {count} vicuna prompts"


def superni_prompts(task_dir: Path, split: Path, shots: int, settings: SuperNI, tokenizer: str | None,
                    out: Path) -> str:
    """The Tk-Instruct prompts of a split's tasks (`settings`: instances_per_task, max_source_length),
    each within the token budget of the evaluated model's tokenizer (a GGUF file, a
    transformers directory or a hub id)."""
    from tuna.evaluate import superni
    from tuna.llm.tokenizer import load_tokenizer

    budget_tokens = settings.max_source_length
    if budget_tokens and tokenizer is None:
        raise TunaError(f"Super-NI prompts: the {budget_tokens}-token budget is measured with the evaluated model's "
                        "tokenizer: name it (eval-prompts --tokenizer), or set no budget (--max-source-length 0)")
    tasks = superni.load_tasks(task_dir, superni.read_task_names(split), settings.instances_per_task)
    budget = superni.Budget(load_tokenizer(tokenizer), budget_tokens) if budget_tokens else None
    records, changed = superni.prompts(tasks, shots, budget)
    count = write_jsonl(out, records)
    params = {"benchmark": "superni", "shots": shots, "instances_per_task": settings.instances_per_task,
              "max_source_length": budget_tokens, **({"tokenizer": budget.tokenizer.name} if budget else {}), **changed}
    provenance.stamp([out], inputs=[task_dir, split, params.get("tokenizer")], params=params)
    note = (f" ({changed['cut']} cut to {budget_tokens} tokens, {changed['fewer_examples']} with fewer than {shots} "
            "examples)") if budget else ""
    return f"{out}: {count} superni prompts{note}"


def lmentry_prompts(data_dir: Path, limit_per_task: int | None, out: Path) -> str:
    """LMentry's prompts, at most `limit_per_task` per data file (spread over templates)."""
    from tuna.evaluate import lmentry

    count = write_jsonl(out, lmentry.prompts(lmentry.load(data_dir, limit_per_task)))
    provenance.stamp([out], inputs=[data_dir], params={"benchmark": "lmentry", "limit_per_task": limit_per_task})
    return f"{out}: {count} lmentry prompts"


def score_superni(tasks_dir: Path, split: Path, answers: dict[int, Path], settings: SuperNI, bertscore_batch_size: int,
                  model_name: str, out: Path) -> str:
    """ROUGE-L and exact match of Super-NI answers (shots -> answers file), overall, per task and
    category, and BERTScore with `settings.bertscore_model`; every instance's scores kept for
    the report's bootstrap."""
    from tuna.evaluate import superni, superni_scoring
    from tuna.evaluate.bertscore import BertScoreModel

    bert = (BertScoreModel(settings.bertscore_model, settings.bertscore_layers, bertscore_batch_size)
            if settings.bertscore_model else None)
    tasks = superni.load_tasks(tasks_dir, superni.read_task_names(split), settings.instances_per_task)
    shots = {str(k): superni_scoring.score(tasks, answers_of(path), bert) for k, path in sorted(answers.items())}
    write_json(out, {"benchmark": "superni", "model": model_name, "tasks": len(tasks),
                     "instances_per_task": settings.instances_per_task, "shots": shots})
    provenance.stamp([out], inputs=[split, *answers.values()],
                     params=settings.model_dump(include={"instances_per_task", "bertscore_model", "bertscore_layers"}))
    return f"{out}: " + ", ".join(f"{k}-shot ROUGE-L {v['rougeL']:.2f} EM {v['exact_match']:.2f}"
                                  + (f" BERTScore F1 {v['bertscore']['f1']:.2f}" if "bertscore" in v else "")
                                  for k, v in shots.items())


def score_lmentry(data_dir: Path, answers: Path, limit_per_task: int | None, model_name: str, out: Path) -> str:
    """Accuracy per task, the four robustness aspects and the LMentry score of the answers; every
    example's verdict is kept (per_instance) for the report's paired bootstrap."""
    from tuna.evaluate import lmentry, lmentry_bootstrap

    data, predictions = lmentry.load(data_dir, limit_per_task), answers_of(answers)
    result = lmentry.score(data, predictions)
    write_json(out, {"benchmark": "lmentry", "model": model_name, "limit_per_task": limit_per_task, **result,
                     "per_instance": lmentry_bootstrap.instances(data, predictions)})
    provenance.stamp([out], inputs=[answers], params={"limit_per_task": limit_per_task})
    return (f"{out}: LMentry score {result['lmentry_score']:.1f} (accuracy {result['accuracy']:.1f} x "
            f"robustness {result['robustness']:.1f}, rounded as upstream); {result['missing']} answers missing")
