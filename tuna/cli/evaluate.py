"""Evaluation commands: benchmark prompts, greedy answers, scoring, Vicuna judging, report."""

from __future__ import annotations

from pathlib import Path

import click

from tuna import datasets, provenance
from tuna.cli.options import provider_options, section_options
from tuna.config.settings import (
    BENCHMARKS,
    VICUNA_ORDERS,
    VICUNA_STYLES,
    Bootstrap,
    Judge,
    SuperNI,
    Vicuna,
    default,
    doc,
)
from tuna.errors import TunaError
from tuna.records import Instruction, answers_of, write_json, write_jsonl

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
DIR = click.Path(exists=True, file_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, path_type=Path)

def _vicuna_questions(location: str) -> Path:
    from tuna.evaluate import vicuna

    return vicuna.DEMO_QUESTIONS if location == "demo" else Path(location)


@click.command("fetch-superni")
@click.option("--tasks", "split", type=FILE, required=True, help="The split's task list (test_tasks.txt).")
@click.option("--commit", default=None, help="natural-instructions commit to download from (default: the pin).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for the task JSON files.")
def fetch_superni(split, commit, out):
    """Download the task files of a Super-NaturalInstructions split from a pinned commit.

    The task files have no published checksums: each file's sha256 is recorded in
    OUT/provenance.json so a later download can be compared.
    """
    from tuna.evaluate import superni

    commit = commit or superni.UPSTREAM_COMMIT
    names = superni.read_task_names(split)
    digests = datasets.fetch_all({n: (superni.TASK_URL.format(commit=commit, task=n), None) for n in names}, out)
    provenance.stamp([out], inputs=[split], params={"commit": commit}, extra={"sha256": digests})
    click.echo(f"{out}: {len(names)} task files at allenai/natural-instructions@{commit}")


@click.command("fetch-lmentry")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for the 41 LMentry data files.")
def fetch_lmentry(out):
    """Download the 41 LMentry data files from the pinned commit, each checked by git blob sha1."""
    from tuna.evaluate import lmentry

    commit = lmentry.UPSTREAM_COMMIT
    digests = datasets.fetch_all({n: (lmentry.FILE_URL.format(commit=commit, name=n), lmentry.FILE_BLOBS[n])
                                  for n in lmentry.FILES}, out)
    provenance.stamp([out], params={"commit": commit}, extra={"sha256": digests})
    click.echo(f"{out}: {len(digests)} LMentry files at aviaefrat/lmentry@{commit}")


@click.command("eval-prompts")
@click.option("--benchmark", type=click.Choice(BENCHMARKS), required=True)
@click.option("--data", required=True,
              help="vicuna: question.jsonl or 'demo'; superni: directory of task files; lmentry: data directory.")
@click.option("--tasks", "split", type=FILE, default=None, help="superni: the split's task list (test_tasks.txt).")
@click.option("--shots", type=click.Choice(["0", "2"]), default="0", show_default=True,
              help="superni: positive examples in the prompt.")
@click.option("--instances-per-task", type=click.IntRange(min=1), default=100, show_default=True,
              help="superni: first N instances of each task (the official test set: 100).")
@click.option("--tokenizer", default=None,
              help="superni: the evaluated model (GGUF file or transformers directory) whose tokenizer "
                   "measures the token budget.")
@click.option("--max-source-length", type=click.IntRange(min=0), default=default(SuperNI, "max_source_length"),
              show_default=True, help="superni: " + doc(SuperNI, "max_source_length").replace("`", ""))
@click.option("--limit-per-task", type=click.IntRange(min=1), default=None,
              help="lmentry: at most N examples per data file, spread over templates (default: all).")
@click.option("-o", "--out", type=OUT, required=True, help="Prompt records (jsonl).")
def eval_prompts(benchmark, data, split, shots, instances_per_task, tokenizer, max_source_length, limit_per_task,
                 out):
    """Write a benchmark's prompts as instruction records, ready for `tuna generate-answers`.

    Super-NI prompts are the evaluated model's own: its tokenizer measures the budget.
    """
    from tuna.evaluate import lmentry, vicuna

    inputs, note = [], ""
    if benchmark == "vicuna":
        inputs.append(_vicuna_questions(data))
        records, params = vicuna.prompts(vicuna.load_questions(inputs[0])), {}
    elif benchmark == "superni":
        records, params = _superni_prompts(Path(data), split, int(shots), instances_per_task, tokenizer,
                                           max_source_length)
        inputs += [Path(data), split, params.get("tokenizer")]
        if max_source_length:
            note = (f" ({params['cut']} cut to {max_source_length} tokens, {params['fewer_examples']} with fewer "
                    f"than {shots} examples)")
    else:
        inputs.append(Path(data))
        records, params = lmentry.prompts(lmentry.load(data, limit_per_task)), {"limit_per_task": limit_per_task}
    count = write_jsonl(out, records)
    provenance.stamp([out], inputs=inputs, params={"benchmark": benchmark, **params})
    click.echo(f"{out}: {count} {benchmark} prompts{note}")


def _superni_prompts(task_dir: Path, split: Path | None, shots: int, instances_per_task: int, tokenizer: str | None,
                     max_source_length: int) -> tuple[list[Instruction], dict]:
    from tuna.evaluate import superni
    from tuna.llm.tokenizer import load_tokenizer

    if split is None:
        raise TunaError("eval-prompts --benchmark superni needs --tasks (the split's test_tasks.txt)")
    if max_source_length and tokenizer is None:
        raise TunaError("eval-prompts --benchmark superni needs --tokenizer (the evaluated model) to measure the "
                        f"{max_source_length}-token budget, or --max-source-length 0 for none")
    tasks = superni.load_tasks(task_dir, superni.read_task_names(split), instances_per_task)
    budget = superni.Budget(load_tokenizer(tokenizer), max_source_length) if max_source_length else None
    records, changed = superni.prompts(tasks, shots, budget)
    return records, {"shots": shots, "instances_per_task": instances_per_task, "max_source_length": max_source_length,
                     **({"tokenizer": budget.tokenizer.name} if budget else {}), **changed}


@click.command("generate-answers")
@click.option("--prompts", type=FILE, required=True, help="Prompt records (from `tuna eval-prompts`).")
@click.option("--max-tokens", type=click.IntRange(min=1), default=256, show_default=True)
@provider_options
@click.option("-o", "--out", type=OUT, required=True, help="Answers (jsonl of generation records, one each).")
def generate_answers(prompts, max_tokens, out, **provider_opts):
    """Greedy answers of a model to benchmark prompts, in the model's prompt template.

    Answers are cached as they arrive: a killed run resumes, a rerun is free. A failed
    answer is kept and marked unless more fail than --max-failed allows. Writes OUT,
    its cost file and a provenance stamp naming the model.
    """
    from tuna import stages

    click.echo(stages.generate_answers(prompts, max_tokens, out, provider_opts))


def _shot_answers(ctx, param, values) -> dict[int, Path]:
    parsed = {}
    for value in values:
        shots, sep, path = value.partition("=")
        if not sep or shots not in ("0", "2") or not Path(path).is_file():
            raise click.BadParameter(f"{value!r}: expected SHOTS=FILE with SHOTS 0 or 2 and an existing FILE")
        parsed[int(shots)] = Path(path)
    return parsed


@click.command("eval-superni")
@click.option("--tasks-dir", type=DIR, required=True, help="Directory of task JSON files.")
@click.option("--tasks", "split", type=FILE, required=True, help="The split's task list (test_tasks.txt).")
@click.option("--answers", multiple=True, required=True, callback=_shot_answers,
              help="SHOTS=FILE: answers to the SHOTS-shot prompts (repeat for 0 and 2).")
@click.option("--instances-per-task", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--bertscore-model", default=None,
              help="Also BERTScore with this model: a hub id bert-score knows (the paper: roberta-large, downloaded "
                   "on first use) or a local transformers directory (default: no BERTScore).")
@click.option("--bertscore-layers", type=click.IntRange(min=0), default=None,
              help="BERTScore: the representation layer (default: bert-score's tuned layer; needed for local models).")
@click.option("--bertscore-batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--model-name", required=True, help="Name of the evaluated model in the result.")
@click.option("-o", "--out", type=OUT, required=True, help="Result JSON (results/{model}/superni.json).")
def eval_superni(tasks_dir, split, answers, instances_per_task, bertscore_model, bertscore_layers,
                 bertscore_batch_size, model_name, out):
    """Score Super-NaturalInstructions answers: ROUGE-L and exact match, overall, per task and category
    (and BERTScore with --bertscore-model); every instance's scores are kept for the report's bootstrap."""
    from tuna.evaluate import superni, superni_scoring
    from tuna.evaluate.bertscore import BertScoreModel

    bert = BertScoreModel(bertscore_model, bertscore_layers, bertscore_batch_size) if bertscore_model else None
    tasks = superni.load_tasks(tasks_dir, superni.read_task_names(split), instances_per_task)
    shots = {str(k): superni_scoring.score(tasks, answers_of(path), bert) for k, path in sorted(answers.items())}
    write_json(out, {"benchmark": "superni", "model": model_name, "tasks": len(tasks),
                     "instances_per_task": instances_per_task, "shots": shots})
    provenance.stamp([out], inputs=[split, *answers.values()],
                     params={"instances_per_task": instances_per_task, "bertscore_model": bertscore_model,
                             "bertscore_layers": bertscore_layers})
    click.echo(f"{out}: " + ", ".join(f"{k}-shot ROUGE-L {v['rougeL']:.2f} EM {v['exact_match']:.2f}"
                                      + (f" BERTScore F1 {v['bertscore']['f1']:.2f}" if "bertscore" in v else "")
                                      for k, v in shots.items()))


@click.command("eval-lmentry")
@click.option("--data", "data_dir", type=DIR, required=True, help="LMentry data directory (the 41 task files).")
@click.option("--answers", type=FILE, required=True, help="Answers to the LMentry prompts.")
@click.option("--limit-per-task", type=click.IntRange(min=1), default=None,
              help="The same limit the prompts were made with.")
@click.option("--model-name", required=True, help="Name of the evaluated model in the result.")
@click.option("-o", "--out", type=OUT, required=True, help="Result JSON (results/{model}/lmentry.json).")
def eval_lmentry(data_dir, answers, limit_per_task, model_name, out):
    """Score LMentry answers: accuracy per task, the four robustness aspects, LMentry score.

    The result also keeps every example's verdict (per_instance), for the report's paired bootstrap.
    """
    from tuna.evaluate import lmentry, lmentry_bootstrap

    data, predictions = lmentry.load(data_dir, limit_per_task), answers_of(answers)
    result = lmentry.score(data, predictions)
    write_json(out, {"benchmark": "lmentry", "model": model_name, "limit_per_task": limit_per_task, **result,
                     "per_instance": lmentry_bootstrap.instances(data, predictions)})
    provenance.stamp([out], inputs=[answers], params={"limit_per_task": limit_per_task})
    click.echo(f"{out}: LMentry score {result['lmentry_score']:.1f} (accuracy {result['accuracy']:.1f} x "
               f"robustness {result['robustness']:.1f}, rounded as upstream); {result['missing']} answers missing")


@click.command("judge-vicuna")
@click.option("--questions", default="demo", show_default=True, help="question.jsonl or 'demo'.")
@click.option("--answers", type=FILE, required=True, help="The evaluated model's answers.")
@click.option("--baseline-answers", type=FILE, required=True, help="The baseline's answers.")
@click.option("--model-name", required=True)
@click.option("--baseline-name", required=True)
@click.option("--style", type=click.Choice(VICUNA_STYLES), default=default(Vicuna, "style"), show_default=True,
              help=doc(Vicuna, "style").replace("`", ""))
@click.option("--judge-prompts", default="demo", show_default=True,
              help="judge_prompts.jsonl (pairwise) or prompt.jsonl (review), or 'demo' for tuna's own.")
@click.option("--orders", type=click.Choice(VICUNA_ORDERS), default=default(Vicuna, "orders"), show_default=True,
              help=doc(Vicuna, "orders").replace("`", ""))
@section_options(Judge, exclude=("provider", "system_prompt"))
@provider_options
@click.option("-o", "--out", type=OUT, required=True, help="Result JSON (results/{model}/vicuna.json).")
@click.option("--judgements", type=OUT, required=True, help="Raw judgements (jsonl), every attempt kept.")
def judge_vicuna(questions, answers, baseline_answers, model_name, baseline_name, style, judge_prompts, orders, out,
                 judgements, **options):
    """Judge a model's Vicuna QA answers against the baseline's, in both orders (or --orders model_first).

    In both orders, a verdict that changes with the order is a tie and the result
    holds the position consistency; an answer with no verdict is re-asked, then
    counted as unparsed. The judge sees its system prompt and the question in one
    turn of its template. Writes OUT (win/lose/tie rates and counts, per category, the
    orders judged), --judgements (every attempt as parsed), a cost file and provenance stamps.
    """
    from tuna import stages
    from tuna.evaluate import vicuna

    prompt_file = vicuna.DEMO_JUDGE_PROMPTS[style] if judge_prompts == "demo" else Path(judge_prompts)
    settings = Judge(**{key: options.pop(key) for key in list(options) if key in Judge.model_fields})
    click.echo(stages.judge_vicuna(_vicuna_questions(questions), answers, baseline_answers, (model_name, baseline_name),
                                   style, prompt_file, settings, out, judgements, options, orders))


def _named_paths(exists, what: str):
    """A click callback parsing NAME=PATH values (PATH an existing `what`) into [(name, path)]."""

    def parse(ctx, param, values) -> list[tuple[str, Path]]:
        parsed = []
        for value in values:
            name, sep, path = value.partition("=")
            if not sep or not exists(Path(path)):
                raise click.BadParameter(f"{value!r}: expected NAME={what} with an existing {what}")
            parsed.append((name, Path(path)))
        return parsed

    return parse


_named_files = _named_paths(Path.is_file, "FILE")


def _sweep_points(expected: str, convert):
    """A click callback parsing LABEL=MODEL:X values into {label: {model: convert(X)}}
    (convert returns None for a bad X)."""

    def parse(ctx, param, values) -> dict[str, dict]:
        sweeps: dict[str, dict] = {}
        for value in values:
            label, _, point = value.partition("=")
            model, _, x = point.partition(":")
            x = convert(x)
            if not label or not model or x is None:
                raise click.BadParameter(f"{value!r}: expected {expected}")
            sweeps.setdefault(label, {})[model] = x
        return sweeps

    return parse


def _tables(ctx, param, values) -> dict[str, list[str]]:
    tables = {}
    for value in values:
        name, sep, models = value.partition("=")
        if not sep or not name or not models:
            raise click.BadParameter(f"{value!r}: expected NAME=MODEL,MODEL,...")
        tables[name] = models.split(",")
    return tables


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _directory(text: str) -> Path | None:
    return Path(text) if text and Path(text).is_dir() else None


@click.command("report")
@click.option("--results", "results_dir", type=click.Path(file_okay=False, path_type=Path), default="results",
              show_default=True, help="Directory holding {model}/{benchmark}.json.")
@click.option("--model", "models", multiple=True, required=True, help="Evaluated model (repeat), in table order.")
@click.option("--baseline", required=True, help="The model deltas and Vicuna verdicts are taken against.")
@click.option("--ranked", multiple=True, callback=_named_files,
              help="DATA=FILE: a ranking data set (prob_rank, ctx_rank:M, ...) for the Table 4 lengths (repeat).")
@click.option("--cost", "costs", multiple=True, callback=_named_files,
              help="STAGE=FILE: a cost file (tuna.cost) of a generating stage, summed per stage and model (repeat).")
@click.option("--quarantine", multiple=True, type=FILE,
              help="Quarantined ranking-judge answers (judged/N.quarantine.jsonl), counted per stage (repeat).")
@click.option("--sweep", "sweeps", multiple=True,
              callback=_sweep_points("LABEL=MODEL:LAMBDA with a number LAMBDA", _number),
              help="LABEL=MODEL:LAMBDA: a model of a lambda (mle_weight) sweep; draws lambda_sweep.png (repeat).")
@click.option("--data-sweep", "data_sweeps", multiple=True,
              callback=_sweep_points("LABEL=MODEL:CHECKPOINT with an existing CHECKPOINT directory", _directory),
              help="LABEL=MODEL:CHECKPOINT: a model of a data-amount (max_examples) sweep and its checkpoint, whose "
                   "provenance says how many examples it was trained on; draws data_sweep.png (repeat).")
@click.option("--table", "tables", multiple=True, callback=_tables,
              help="NAME=MODEL,MODEL,...: one more table in Table 1's layout over these models (repeat).")
@click.option("--human-price", type=(click.FloatRange(min=0), click.IntRange(min=1)), default=None,
              metavar="USD COMPARISONS",
              help="Table 6's human-labelling row: USD per comparison and comparisons per judge-ranked example.")
@click.option("--training", multiple=True, callback=_named_paths(Path.is_dir, "CHECKPOINT"),
              help="MODEL=CHECKPOINT: a trained model whose metrics.jsonl is drawn in training_curves.png (repeat).")
@click.option("--nll-data", multiple=True,
              help="NAME: an NLL data set (results/{model}/nll_NAME.json) for the nll_NAME columns; Table 5 picks "
                   "beta by the first (repeat) [default: the held-out NLL only].")
@click.option("--beta-sweep", "beta_sweeps", multiple=True,
              callback=_sweep_points("LABEL=MODEL:BETA with a number BETA", _number),
              help="LABEL=MODEL:BETA: a model of an Eq. 3 beta sweep; Table 5 marks the lowest NLL (repeat).")
@click.option("--prm-agreement", "prm_files", multiple=True, type=FILE,
              help="A proxy ranking model's held-out agreement with its judge (eval-agreement on the PRM): "
                   "prm_agreement.* and agreement.png (repeat).")
@click.option("--bootstrap-resamples", type=click.IntRange(min=100), default=default(Bootstrap, "resamples"),
              show_default=True, help="Paired bootstrap resamples behind every delta's 95% interval and p-value.")
@click.option("--bootstrap-seed", type=int, default=default(Bootstrap, "seed"), show_default=True,
              help=doc(Bootstrap, "seed"))
@click.option("--human", type=FILE, default=None, help="Human scores (`tuna human-import`): Table 2.")
@click.option("--human-focus", default="tuna", show_default=True,
              help="Table 2: the model tested against every other one (the paper's †).")
@click.option("--ranking-agreement", type=FILE, default=None,
              help="Judge vs human ranking agreement (`tuna human-agreement`): Appendix G.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Report directory (results/report).")
def report_command(results_dir, models, baseline, ranked, costs, quarantine, sweeps, data_sweeps, tables,
                   human_price, training, nll_data, beta_sweeps, prm_files, bootstrap_resamples, bootstrap_seed, human,
                   human_focus, ranking_agreement, out):
    """Tables and plots of the evaluated models, each table as CSV, Markdown and HTML.

    \b
    table1    benchmarks x models, deltas vs the baseline with 95% paired bootstrap
              intervals and p-values (bootstrap test; Vicuna: sign test); Markdown links
              every number to its result file and provenance stamp
    table11   Super-NI BERTScore beside ROUGE-L (when eval-superni computed it)
    table2    human scores with significance marks (with --human)
    appendix_g  Spearman of judge vs human rankings (with --ranking-agreement)
    table5    Eq. 3's beta vs NLL, the lowest marked (with --beta-sweep)
    prm_agreement  proxy ranking models vs their judge on held-out ranks (with --prm-agreement)
    lengths   Table 4: mean response length per rank position, per ranking data set
    cost      calls, tokens and USD per stage and model; unusable judge answers
    sources   sha256, commit and command of every file the numbers come from
    NAME      each --table: Table 1's layout over its models (the paper's Tables 3, 8)
    vicuna_win_lose_tie.png, lambda_sweep.png (with --sweep), data_sweep.png (with --data-sweep),
    agreement.png (with results/{model}/agreement_*.json), training_curves.png (with --training)
    """
    from tuna.evaluate import report
    from tuna.evaluate.report_held_out import HeldOutReport
    from tuna.evaluate.significance import Settings

    uncertainty = report.Uncertainty(Settings(bootstrap_resamples, bootstrap_seed), human, human_focus,
                                     ranking_agreement)
    held_out = HeldOutReport(tuple(nll_data), beta_sweeps, tuple(prm_files))
    made, inputs = report.build(out, results_dir, list(models), baseline, ranked, costs, list(quarantine), sweeps,
                                data_sweeps, tables, human_price, dict(training), uncertainty, held_out)
    data_points = {label: {model: str(path) for model, path in points.items()} for label, points in data_sweeps.items()}
    provenance.stamp([out], inputs=inputs, params={"models": list(models), "baseline": baseline, "sweeps": sweeps,
                                                   "data_sweeps": data_points, "tables": tables,
                                                   "human_price": human_price, "bootstrap_resamples": bootstrap_resamples,
                                                   "bootstrap_seed": bootstrap_seed, "human_focus": human_focus,
                                                   "nll_data": list(nll_data), "beta_sweeps": beta_sweeps})
    click.echo(f"{out}: " + ", ".join(p.name for p in made))


@click.command("human-export")
@click.option("--questions", default="demo", show_default=True, help="question.jsonl or 'demo'.")
@click.option("--answers", multiple=True, required=True, callback=_named_files,
              help="MODEL=FILE: a model's Vicuna answers (repeat for each model to compare).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the shuffling.")
@click.option("-o", "--out", type=OUT, required=True, help="Annotation sheet (CSV, no model names).")
@click.option("--key", type=OUT, required=True, help="Which response is which model (CSV; keep from annotators).")
def human_export(questions, answers, seed, out, key):
    """Export Vicuna answers of several models, shuffled and anonymized, for human ranking."""
    from tuna.evaluate import human, vicuna

    source = _vicuna_questions(questions)
    count = human.export(vicuna.load_questions(source), {m: answers_of(p) for m, p in answers}, out, key, seed)
    provenance.stamp([out, key], inputs=[source, *(p for _, p in answers)], params={"seed": seed})
    click.echo(f"{out}: {count} questions x {len(answers)} responses (key: {key})")


@click.command("human-import")
@click.option("--sheet", "sheets", type=FILE, required=True, multiple=True,
              help="An annotator's copy of the sheet with rank_* columns filled (1 = best); repeat, one per annotator "
                   "(the paper: two per question).")
@click.option("--key", type=FILE, required=True, help="The key written by `tuna human-export`.")
@click.option("--top", type=click.IntRange(min=2), default=6, show_default=True,
              help="Score of rank i is TOP - i (the paper: 6 - i).")
@click.option("-o", "--out", type=OUT, required=True, help="Scores per model (JSON).")
def human_import(sheets, key, top, out):
    """Turn annotators' rankings into per-model scores (Table 2).

    A question's score is TOP - rank averaged over the annotators who ranked it; a
    model's is the mean over questions, each question's averaged score kept for the
    paired tests. With two or more sheets, the inter-annotator agreement (Kendall's W
    per question, Spearman's rho per pair of annotators) is written too.
    """
    from tuna.evaluate import human

    scores = human.import_ranks(list(sheets), key, top)
    agreement = human.annotator_agreement(list(sheets), key, top)
    write_json(out, {"top": top, "annotators": [str(s) for s in sheets], "agreement": agreement, "models": scores})
    provenance.stamp([out], inputs=[*sheets, key], params={"top": top})
    click.echo(f"{out}: " + ", ".join(f"{m} {s['score']:.2f}" for m, s in scores.items())
               + (f"; {len(sheets)} annotators, mean Kendall's W {agreement['mean_kendall_w']}" if agreement else ""))


@click.command("human-export-ranking")
@click.option("--ranked", type=FILE, required=True,
              help="Judge-ranked contextual-ranking examples (results/ctx_rank/{model}/ranked.jsonl).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="Examples to export (a seeded sample).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample and the shuffling.")
@click.option("-o", "--out", type=OUT, required=True, help="Annotation sheet (CSV, the judge's ranks hidden).")
@click.option("--key", type=OUT, required=True, help="The judge's rank of each response (CSV; keep from annotators).")
def human_export_ranking(ranked, limit, seed, out, key):
    """Export judge-ranked examples, candidates shuffled and anonymized, for human ranking (Appendix G)."""
    from tuna.evaluate import human
    from tuna.records import Ranking, read_jsonl

    count = human.export_rankings(read_jsonl(ranked, Ranking), out, key, limit, seed)
    provenance.stamp([out, key], inputs=[ranked], params={"limit": limit, "seed": seed})
    click.echo(f"{out}: {count} ranking examples (key: {key})")


@click.command("human-agreement")
@click.option("--sheet", type=FILE, required=True, help="The ranking sheet with rank_* columns filled (1 = best).")
@click.option("--key", type=FILE, required=True, help="The key written by `tuna human-export-ranking`.")
@click.option("-o", "--out", type=OUT, required=True, help="Agreement (JSON): Spearman's rho per example and mean.")
def human_agreement(sheet, key, out):
    """Spearman correlation between the judge's and the annotators' rankings (Appendix G)."""
    from tuna.evaluate import human

    agreement = human.ranking_agreement(sheet, key)
    write_json(out, agreement)
    provenance.stamp([out], inputs=[sheet, key])
    click.echo(f"{out}: mean Spearman {agreement['mean_spearman']} over {agreement['examples']} examples")


COMMANDS = [fetch_superni, fetch_lmentry, eval_prompts, generate_answers, eval_superni, eval_lmentry, judge_vicuna,
            report_command, human_export, human_import, human_export_ranking, human_agreement]
