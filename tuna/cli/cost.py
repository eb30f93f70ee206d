"""`tuna cost`: what API calls will cost before anything is spent."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from tuna.errors import TunaError


@click.group("cost")
def cost():
    """Token and dollar projections from a config's price table (`prices:`)."""


@cost.command("estimate")
@click.argument("config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--instructions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Instruction records to project over [default: the config's data source and limit].")
def estimate(config_file: Path, instructions: Path | None):
    """Project the calls, tokens and USD of the teacher, the ranking judge and the
    Vicuna QA judge for CONFIG_FILE.

    Prompt tokens are counted from the actual prompts (Alpaca for the teacher, the
    Table 9 prompt for the judge, the Vicuna judge prompts; 4 characters per token);
    each response is assumed as long as the original Alpaca output (capped at
    max_tokens), each Vicuna answer as long as its max_tokens. The worst case assumes
    every answer uses max_tokens.
    """
    from tuna import datasets
    from tuna.cost import estimate_judge, estimate_teacher, estimate_vicuna
    from tuna.evaluate import vicuna
    from tuna.records import Instruction, read_jsonl
    from tuna.workflow import validate_config, vicuna_plan

    try:
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TunaError(f"{config_file}: not valid YAML ({exc})") from exc
    validate_config(config, source=str(config_file))
    plan = vicuna_plan(config)
    judges_vicuna = "vicuna" in config["evaluation"]["benchmarks"]
    source = None if instructions else config["data"]["source"]
    needed = (["resources/downloads/alpaca_data.json"] if source == "alpaca" else []) + (
        [plan["questions"], plan["judge_prompts"]] if judges_vicuna and plan["questions"] else [])
    missing = [path for path in needed if not Path(path).exists()]
    if missing:
        raise TunaError(f"{config_file}: not downloaded yet: {', '.join(missing)}; run "
                        f"`snakemake {' '.join(missing)}` (free) first")
    if instructions:
        records = read_jsonl(instructions, Instruction)
    else:
        path = "resources/downloads/alpaca_data.json" if source == "alpaca" else source
        records = datasets.load_alpaca(datasets.source_path(path))[: config["data"]["limit"]]
    rows = [estimate_teacher(config, records), estimate_judge(config, records)]
    if judges_vicuna:
        questions = vicuna.load_questions(plan["questions"] or vicuna.DEMO_QUESTIONS)
        prompts = vicuna.load_judge_prompts(plan["judge_prompts"] or vicuna.DEMO_JUDGE_PROMPTS[plan["style"]],
                                            plan["style"])
        rows.append(estimate_vicuna(config, questions, prompts))
    for row in rows:
        dollars = (f"${row['usd']:,.2f} (at most ${row['usd_if_max_tokens']:,.2f})" if row["priced"]
                   else f"unknown: no price for '{row['model']}' in prices:")
        click.echo(f"{row['stage']} ({row['provider']} {row['model'] or ''}): {row['instructions']} instructions, "
                   f"{row['calls']} calls, ~{row['prompt_tokens']:,} prompt + ~{row['completion_tokens']:,} "
                   f"completion tokens; {dollars}")


COMMANDS = [cost]
