"""Evaluation commands: benchmark data and prompts, greedy answers, scoring, Vicuna judging,
the report, and the sheets of human evaluation."""

from __future__ import annotations

from pathlib import Path

import click

from tuna.cli.options import DIR, FILE, OUT, field_option, key_files, model_name_option, out_option, section_options
from tuna.cli.provider import provider_options
from tuna.config.settings import BENCHMARKS, SUPERNI_SHOTS, BenchmarkGeneration, Judge, LMentry, SuperNI, Vicuna

questions_option = click.option("--questions", default="demo", show_default=True,
                                help="Vicuna QA's question.jsonl, or 'demo' for tuna's own questions.")
seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample and shuffling.")


def tasks_option(required: bool = True):
    return click.option("--tasks", "split", type=FILE, required=required, help="Super-NI: the split's test_tasks.txt.")


@click.command("fetch-superni", short_help="Download a Super-NI split's task files.")
@tasks_option()
@click.option("--commit", default=None, help="natural-instructions commit to download from (default: the pin).")
@out_option("Directory for the task JSON files.", directory=True)
def fetch_superni(split, commit, out):
    """Download the task files of a Super-NaturalInstructions split from a pinned commit
    (no published checksums: each file's sha256 goes to OUT/provenance.json)."""
    from tuna.evaluate import superni

    click.echo(superni.fetch(split, commit, out))


@click.command("fetch-lmentry", short_help="Download the 41 LMentry data files.")
@out_option("Directory for the 41 LMentry data files.", directory=True)
def fetch_lmentry(out):
    """Download the 41 LMentry data files from the pinned commit, each checked by git blob sha1."""
    from tuna.evaluate import lmentry

    click.echo(lmentry.fetch(out))


@click.command("eval-prompts", short_help="A benchmark's prompts as instruction records.")
@click.option("--benchmark", type=click.Choice(BENCHMARKS), required=True)
@click.option("--data", required=True,
              help="vicuna: question.jsonl or 'demo'; superni: directory of task files; lmentry: data directory.")
@tasks_option(required=False)
@click.option("--shots", type=click.Choice(SUPERNI_SHOTS), default=None, help="superni: positive examples shown.")
@click.option("--tokenizer", default=None,
              help="superni: the evaluated model (GGUF or transformers dir), whose tokenizer measures the budget.")
@section_options(SuperNI, only=("instances_per_task", "max_source_length"), into="settings")
@field_option(LMentry, "limit_per_task")
@out_option("Prompt records (jsonl).")
def eval_prompts(benchmark, data, split, shots, tokenizer, settings, limit_per_task, out):
    """Write a benchmark's prompts as instruction records, ready for `tuna generate-answers`."""
    from tuna.evaluate import lmentry, superni, vicuna

    if benchmark == "vicuna":
        click.echo(vicuna.write_prompts(data, out))
    elif benchmark == "lmentry":
        click.echo(lmentry.write_prompts(Path(data), limit_per_task, out))
    elif split is None or shots is None:
        raise click.UsageError("eval-prompts --benchmark superni needs --tasks (test_tasks.txt) and --shots")
    else:
        click.echo(superni.write_prompts(Path(data), split, shots, settings, tokenizer, out))


@click.command("generate-answers", short_help="A model's greedy answers to benchmark prompts.")
@click.option("--prompts", type=FILE, required=True, help="Prompt records (from `tuna eval-prompts`).")
@field_option(BenchmarkGeneration, "max_tokens", help="Longest answer in tokens (the workflow: "
              "evaluation.generation.max_tokens, evaluation.superni.max_tokens for Super-NI).")
@provider_options
@out_option("Answers (jsonl of generation records, one each).")
def generate_answers(prompts, max_tokens, provider, out):
    """Greedy answers of a model to benchmark prompts, in its prompt template, cached as they
    arrive (a killed run resumes); a failed answer is kept and marked."""
    from tuna import stages

    click.echo(stages.generate_answers(prompts, max_tokens, out, provider))


@click.command("eval-superni", short_help="Score Super-NI answers (ROUGE-L, exact match).")
@click.option("--tasks-dir", type=DIR, required=True, help="Directory of task JSON files.")
@tasks_option()
@click.option("--answers", multiple=True, required=True, callback=key_files(tuple(map(str, SUPERNI_SHOTS))),
              help="SHOTS=FILE: answers to the SHOTS-shot prompts (repeat for each).")
@field_option(SuperNI, "instances_per_task")
@click.option("--bertscore-model", default=None,
              help="Also BERTScore with this model: a hub id bert-score knows (the paper: roberta-large) or a local "
                   "transformers directory (default: no BERTScore).")
@field_option(SuperNI, "bertscore_layers")
@click.option("--bertscore-batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@model_name_option
@out_option("Result JSON (results/{model}/superni.json).")
def eval_superni(tasks_dir, split, answers, instances_per_task, bertscore_model, bertscore_layers,
                 bertscore_batch_size, model_name, out):
    """Score Super-NaturalInstructions answers: ROUGE-L and exact match, overall, per task and category
    (and BERTScore with --bertscore-model), every instance's scores kept for the report's bootstrap."""
    from tuna.evaluate import superni_scoring

    settings = SuperNI(instances_per_task=instances_per_task, bertscore_model=bertscore_model,
                       bertscore_layers=bertscore_layers)
    answers = {int(shots): path for shots, path in answers.items()}
    click.echo(superni_scoring.score_answers(tasks_dir, split, answers, settings, bertscore_batch_size, model_name,
                                             out))


@click.command("eval-lmentry", short_help="Score LMentry answers (the LMentry score).")
@click.option("--data", "data_dir", type=DIR, required=True, help="LMentry data directory (the 41 task files).")
@click.option("--answers", type=FILE, required=True, help="Answers to the LMentry prompts.")
@field_option(LMentry, "limit_per_task", help="The same limit the prompts were made with.")
@model_name_option
@out_option("Result JSON (results/{model}/lmentry.json).")
def eval_lmentry(data_dir, answers, limit_per_task, model_name, out):
    """Score LMentry answers: accuracy per task, the four robustness aspects, LMentry score,
    every example's verdict kept for the report's paired bootstrap."""
    from tuna.evaluate import lmentry_result

    click.echo(lmentry_result.score_answers(data_dir, answers, limit_per_task, model_name, out))


@click.command("judge-vicuna", short_help="Judge Vicuna QA answers against the baseline's.")
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
    """Judge a model's Vicuna QA answers against the baseline's, in both orders (a verdict that
    changes with the order is a tie) or --orders model_first; no verdict: re-asked, then unparsed."""
    from tuna import stages

    click.echo(stages.judge_vicuna(questions, answers, baseline_answers, (model_name, baseline_name), style,
                                   judge_prompts, settings, out, judgements, provider, orders))


@click.command("report", short_help="Tables and plots of the evaluated models.")
@click.option("--spec", "spec_file", type=click.File("r", encoding="utf-8"), required=True,
              help="The report spec, JSON or YAML ('-': standard input): what to show and every file to read "
                   "(the workflow writes it; results/report/spec.json is one to start from).")
@out_option("Report directory (results/report).", directory=True)
def report_command(spec_file, out):
    """Tables (CSV, Markdown, HTML) and plots of the evaluated models from the report spec alone
    (kept as OUT/spec.json): Table 1 (deltas vs the baseline, 95% paired bootstrap intervals,
    every number linked to its sources), the spec's extra tables, human scores, beta vs NLL,
    agreement, response lengths, cost, sources and jobs (README: "The report")."""
    from tuna.config.report_spec import read_spec
    from tuna.evaluate import report

    made = report.build(read_spec(spec_file.read(), spec_file.name), out)
    click.echo(f"{out}: " + ", ".join(p.name for p in made))


@click.command("human-export", short_help="A sheet of Vicuna answers for human ranking.")
@questions_option
@click.option("--answers", multiple=True, required=True, callback=key_files(),
              help="MODEL=FILE: a model's Vicuna answers (repeat for each model to compare).")
@seed_option
@out_option("Annotation sheet (CSV, no model names).")
@click.option("--key", type=OUT, required=True, help="Which response is which model (keep from annotators).")
def human_export(questions, answers, seed, out, key):
    """Export Vicuna answers of several models, shuffled and anonymized, for human ranking."""
    from tuna.evaluate import human_stages

    click.echo(human_stages.export_answers(questions, answers, seed, out, key))


@click.command("human-import", short_help="Annotators' rankings as per-model scores (Table 2).")
@click.option("--sheet", "sheets", type=FILE, required=True, multiple=True, help="An annotator's sheet (repeat).")
@click.option("--key", type=FILE, required=True, help="The key written by `tuna human-export`.")
@click.option("--top", type=click.IntRange(min=2), default=6, show_default=True, help="Rank i scores TOP - i.")
@out_option("Scores per model (JSON).")
def human_import(sheets, key, top, out):
    """Turn annotators' rankings into per-model scores (Table 2): TOP - rank averaged over a
    question's annotators, then over questions; with two or more sheets also their agreement
    (Kendall's W per question, Spearman's rho per pair of annotators)."""
    from tuna.evaluate import human_stages

    click.echo(human_stages.import_scores(list(sheets), key, top, out))


@click.command("human-export-ranking", short_help="A sheet of judge-ranked examples for annotators.")
@click.option("--ranked", type=FILE, required=True, help="Judge-ranked examples (ctx_rank/{model}/ranked.jsonl).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Examples to sample.")
@seed_option
@out_option("Annotation sheet (CSV, the judge's ranks hidden).")
@click.option("--key", type=OUT, required=True, help="The judge's rank of each response (keep from annotators).")
def human_export_ranking(ranked, limit, seed, out, key):
    """Export judge-ranked examples, candidates shuffled and anonymized, for human ranking (Appendix G)."""
    from tuna.evaluate import human_stages

    click.echo(human_stages.export_rankings(ranked, limit, seed, out, key))


@click.command("human-agreement", short_help="Judge vs annotators' rankings (Appendix G).")
@click.option("--sheet", type=FILE, required=True, help="The ranking sheet with rank_* columns filled (1 = best).")
@click.option("--key", type=FILE, required=True, help="The key written by `tuna human-export-ranking`.")
@out_option("Agreement (JSON): Spearman's rho per example and mean.")
def human_agreement(sheet, key, out):
    """Spearman correlation between the judge's and the annotators' rankings (Appendix G)."""
    from tuna.evaluate import human_stages

    click.echo(human_stages.ranking_agreement(sheet, key, out))


COMMANDS = [fetch_superni, fetch_lmentry, eval_prompts, generate_answers, eval_superni, eval_lmentry, judge_vicuna,
            report_command, human_export, human_import, human_export_ranking, human_agreement]
