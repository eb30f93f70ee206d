"""Evaluation commands: benchmark data and prompts, greedy answers, scoring, Vicuna judging,
the report, and the sheets of human evaluation."""

from __future__ import annotations

from pathlib import Path

import click

from tuna.cli.options import (
    DIR,
    FILE,
    OUT,
    field_option,
    model_name_option,
    out_dir_option,
    out_option,
    section_options,
)
from tuna.cli.provider import provider_options
from tuna.config.settings import BENCHMARKS, SUPERNI_SHOTS, BenchmarkGeneration, Judge, LMentry, SuperNI, Vicuna

questions_option = click.option("--questions", default="demo", show_default=True,
                                help="Vicuna QA's question.jsonl, or 'demo' for tuna's own questions.")


@click.command("fetch-superni")
@click.option("--tasks", "split", type=FILE, required=True, help="The split's task list (test_tasks.txt).")
@click.option("--commit", default=None, help="natural-instructions commit to download from (default: the pin).")
@out_dir_option("Directory for the task JSON files.")
def fetch_superni(split, commit, out):
    """Download the task files of a Super-NaturalInstructions split from a pinned commit.

    The task files have no published checksums: each file's sha256 is recorded in
    OUT/provenance.json so a later download can be compared.
    """
    from tuna.evaluate import superni

    click.echo(superni.fetch(split, commit, out))


@click.command("fetch-lmentry")
@out_dir_option("Directory for the 41 LMentry data files.")
def fetch_lmentry(out):
    """Download the 41 LMentry data files from the pinned commit, each checked by git blob sha1."""
    from tuna.evaluate import lmentry

    click.echo(lmentry.fetch(out))


@click.command("eval-prompts")
@click.option("--benchmark", type=click.Choice(BENCHMARKS), required=True)
@click.option("--data", required=True,
              help="vicuna: question.jsonl or 'demo'; superni: directory of task files; lmentry: data directory.")
@click.option("--tasks", "split", type=FILE, default=None, help="superni: the split's task list (test_tasks.txt).")
@click.option("--shots", type=click.Choice(SUPERNI_SHOTS), default=None,
              help="superni: positive examples in the prompt (one prompt set each).")
@click.option("--tokenizer", default=None,
              help="superni: the evaluated model (GGUF file or transformers directory) whose tokenizer "
                   "measures the token budget.")
@section_options(SuperNI, only=("instances_per_task", "max_source_length"), into="settings")
@field_option(LMentry, "limit_per_task")
@out_option("Prompt records (jsonl).")
def eval_prompts(benchmark, data, split, shots, tokenizer, settings, limit_per_task, out):
    """Write a benchmark's prompts as instruction records, ready for `tuna generate-answers`.

    Super-NI prompts are the evaluated model's own: its tokenizer measures the budget.
    """
    from tuna.evaluate import lmentry, superni, vicuna

    if benchmark == "vicuna":
        click.echo(vicuna.write_prompts(data, out))
    elif benchmark == "lmentry":
        click.echo(lmentry.write_prompts(Path(data), limit_per_task, out))
    elif split is None or shots is None:
        raise click.UsageError("eval-prompts --benchmark superni needs --tasks (the split's test_tasks.txt) "
                               "and --shots")
    else:
        click.echo(superni.write_prompts(Path(data), split, shots, settings, tokenizer, out))


@click.command("generate-answers")
@click.option("--prompts", type=FILE, required=True, help="Prompt records (from `tuna eval-prompts`).")
@field_option(BenchmarkGeneration, "max_tokens", help="Longest answer in tokens (the workflow: "
              "evaluation.generation.max_tokens, evaluation.superni.max_tokens for Super-NI).")
@provider_options
@out_option("Answers (jsonl of generation records, one each).")
def generate_answers(prompts, max_tokens, provider, out):
    """Greedy answers of a model to benchmark prompts, in the model's prompt template.

    Answers are cached as they arrive: a killed run resumes, a rerun is free. A failed
    answer is kept and marked unless more fail than --max-failed allows. Writes OUT,
    its cost file and a provenance stamp naming the model.
    """
    from tuna import stages

    click.echo(stages.generate_answers(prompts, max_tokens, out, provider))


def _shot_answers(ctx, param, values) -> dict[int, Path]:
    parsed = {}
    for value in values:
        shots, sep, path = value.partition("=")
        if not sep or shots not in map(str, SUPERNI_SHOTS) or not Path(path).is_file():
            raise click.BadParameter(f"{value!r}: expected SHOTS=FILE with SHOTS one of "
                                     f"{', '.join(map(str, SUPERNI_SHOTS))} and an existing FILE")
        parsed[int(shots)] = Path(path)
    return parsed


@click.command("eval-superni")
@click.option("--tasks-dir", type=DIR, required=True, help="Directory of task JSON files.")
@click.option("--tasks", "split", type=FILE, required=True, help="The split's task list (test_tasks.txt).")
@click.option("--answers", multiple=True, required=True, callback=_shot_answers,
              help="SHOTS=FILE: answers to the SHOTS-shot prompts (repeat for each).")
@field_option(SuperNI, "instances_per_task")
@click.option("--bertscore-model", default=None,
              help="Also BERTScore with this model: a hub id bert-score knows (the paper: roberta-large, downloaded "
                   "on first use) or a local transformers directory (default: no BERTScore).")
@field_option(SuperNI, "bertscore_layers")
@click.option("--bertscore-batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@model_name_option
@out_option("Result JSON (results/{model}/superni.json).")
def eval_superni(tasks_dir, split, answers, instances_per_task, bertscore_model, bertscore_layers,
                 bertscore_batch_size, model_name, out):
    """Score Super-NaturalInstructions answers: ROUGE-L and exact match, overall, per task and category
    (and BERTScore with --bertscore-model); every instance's scores are kept for the report's bootstrap."""
    from tuna.evaluate import superni_scoring

    settings = SuperNI(instances_per_task=instances_per_task, bertscore_model=bertscore_model,
                       bertscore_layers=bertscore_layers)
    click.echo(superni_scoring.score_answers(tasks_dir, split, answers, settings, bertscore_batch_size, model_name,
                                             out))


@click.command("eval-lmentry")
@click.option("--data", "data_dir", type=DIR, required=True, help="LMentry data directory (the 41 task files).")
@click.option("--answers", type=FILE, required=True, help="Answers to the LMentry prompts.")
@field_option(LMentry, "limit_per_task", help="The same limit the prompts were made with.")
@model_name_option
@out_option("Result JSON (results/{model}/lmentry.json).")
def eval_lmentry(data_dir, answers, limit_per_task, model_name, out):
    """Score LMentry answers: accuracy per task, the four robustness aspects, LMentry score.

    The result also keeps every example's verdict (per_instance), for the report's paired bootstrap.
    """
    from tuna.evaluate import lmentry_result

    click.echo(lmentry_result.score_answers(data_dir, answers, limit_per_task, model_name, out))


@click.command("judge-vicuna")
@questions_option
@click.option("--answers", type=FILE, required=True, help="The evaluated model's answers.")
@click.option("--baseline-answers", type=FILE, required=True, help="The baseline's answers.")
@model_name_option
@click.option("--baseline-name", required=True)
@field_option(Vicuna, "style")
@click.option("--judge-prompts", default="demo", show_default=True,
              help="judge_prompts.jsonl (pairwise) or prompt.jsonl (review), or 'demo' for tuna's own.")
@field_option(Vicuna, "orders")
@section_options(Judge, exclude=("provider", "system_prompt"), into="settings")
@provider_options
@out_option("Result JSON (results/{model}/vicuna.json).")
@click.option("--judgements", type=OUT, required=True, help="Raw judgements (jsonl), every attempt kept.")
def judge_vicuna(questions, answers, baseline_answers, model_name, baseline_name, style, judge_prompts, orders,
                 settings, provider, out, judgements):
    """Judge a model's Vicuna QA answers against the baseline's, in both orders (or --orders model_first).

    In both orders, a verdict that changes with the order is a tie and the result
    holds the position consistency; an answer with no verdict is re-asked, then
    counted as unparsed. The judge sees its system prompt and the question in one
    turn of its template. Writes OUT (win/lose/tie rates and counts, per category, the
    orders judged), --judgements (every attempt as parsed), a cost file and provenance stamps.
    """
    from tuna import stages

    click.echo(stages.judge_vicuna(questions, answers, baseline_answers, (model_name, baseline_name), style,
                                   judge_prompts, settings, out, judgements, provider, orders))


def _named_files(ctx, param, values) -> list[tuple[str, Path]]:
    """NAME=FILE values (FILE an existing file) as [(name, path)]."""
    parsed = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not Path(path).is_file():
            raise click.BadParameter(f"{value!r}: expected NAME=FILE with an existing FILE")
        parsed.append((name, Path(path)))
    return parsed


@click.command("report")
@click.option("--spec", "spec_file", type=click.File("r", encoding="utf-8"), required=True,
              help="The report spec, JSON or YAML ('-': standard input): what to show and every file to read "
                   "(the workflow writes it; results/report/spec.json is one to start from).")
@out_dir_option("Report directory (results/report).")
def report_command(spec_file, out):
    """Tables and plots of the evaluated models, each table as CSV, Markdown and HTML,
    built from the report spec alone (kept as OUT/spec.json).

    \b
    table1    benchmarks x models, deltas vs the baseline with 95% paired bootstrap
              intervals and p-values (bootstrap test; Vicuna: sign test); Markdown links
              every number to its result file and provenance stamp
    table11   Super-NI BERTScore beside ROUGE-L (when eval-superni computed it)
    table2    human scores with significance marks (with human.scores)
    appendix_g  Spearman of judge vs human rankings (with human.ranking_agreement)
    table5    Eq. 3's beta vs NLL, the lowest marked (with beta_sweeps)
    prm_agreement  proxy ranking models vs their judge on held-out ranks (with prm_agreement)
    lengths   Table 4: mean response length per rank position, per ranking data set
    cost      calls, tokens and USD per stage and model; unusable judge answers
    sources   sha256, commit and command of every file the numbers come from
    NAME      each of tables: Table 1's layout over its models (the paper's Tables 3, 8)
    vicuna_win_lose_tie.png, lambda_sweep.png (with lambda_sweeps), data_sweep.png (with
    data_sweeps), agreement.png (with agreement), training_curves.png (with training_curves)
    """
    from tuna.config.report_spec import read_spec
    from tuna.evaluate import report

    made = report.build(read_spec(spec_file.read(), spec_file.name), out)
    click.echo(f"{out}: " + ", ".join(p.name for p in made))


@click.command("human-export")
@questions_option
@click.option("--answers", multiple=True, required=True, callback=_named_files,
              help="MODEL=FILE: a model's Vicuna answers (repeat for each model to compare).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the shuffling.")
@out_option("Annotation sheet (CSV, no model names).")
@click.option("--key", type=OUT, required=True, help="Which response is which model (CSV; keep from annotators).")
def human_export(questions, answers, seed, out, key):
    """Export Vicuna answers of several models, shuffled and anonymized, for human ranking."""
    from tuna.evaluate import human_stages

    click.echo(human_stages.export_answers(questions, answers, seed, out, key))


@click.command("human-import")
@click.option("--sheet", "sheets", type=FILE, required=True, multiple=True,
              help="An annotator's copy of the sheet with rank_* columns filled (1 = best); repeat, one per annotator "
                   "(the paper: two per question).")
@click.option("--key", type=FILE, required=True, help="The key written by `tuna human-export`.")
@click.option("--top", type=click.IntRange(min=2), default=6, show_default=True,
              help="Score of rank i is TOP - i (the paper: 6 - i).")
@out_option("Scores per model (JSON).")
def human_import(sheets, key, top, out):
    """Turn annotators' rankings into per-model scores (Table 2).

    A question's score is TOP - rank averaged over the annotators who ranked it; a
    model's is the mean over questions, each question's averaged score kept for the
    paired tests. With two or more sheets, the inter-annotator agreement (Kendall's W
    per question, Spearman's rho per pair of annotators) is written too.
    """
    from tuna.evaluate import human_stages

    click.echo(human_stages.import_scores(list(sheets), key, top, out))


@click.command("human-export-ranking")
@click.option("--ranked", type=FILE, required=True,
              help="Judge-ranked contextual-ranking examples (results/ctx_rank/{model}/ranked.jsonl).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="Examples to export (a seeded sample).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample and the shuffling.")
@out_option("Annotation sheet (CSV, the judge's ranks hidden).")
@click.option("--key", type=OUT, required=True, help="The judge's rank of each response (CSV; keep from annotators).")
def human_export_ranking(ranked, limit, seed, out, key):
    """Export judge-ranked examples, candidates shuffled and anonymized, for human ranking (Appendix G)."""
    from tuna.evaluate import human_stages

    click.echo(human_stages.export_rankings(ranked, limit, seed, out, key))


@click.command("human-agreement")
@click.option("--sheet", type=FILE, required=True, help="The ranking sheet with rank_* columns filled (1 = best).")
@click.option("--key", type=FILE, required=True, help="The key written by `tuna human-export-ranking`.")
@out_option("Agreement (JSON): Spearman's rho per example and mean.")
def human_agreement(sheet, key, out):
    """Spearman correlation between the judge's and the annotators' rankings (Appendix G)."""
    from tuna.evaluate import human_stages

    click.echo(human_stages.ranking_agreement(sheet, key, out))


COMMANDS = [fetch_superni, fetch_lmentry, eval_prompts, generate_answers, eval_superni, eval_lmentry, judge_vicuna,
            report_command, human_export, human_import, human_export_ranking, human_agreement]
