"""`tuna cost`: what API calls will cost before anything is spent."""

from __future__ import annotations

import click

from tuna.cli.options import FILE


@click.group("cost")
def cost():
    """Token and dollar projections from a config's price table (`prices:`)."""


@cost.command("estimate")
@click.argument("config_file", type=FILE)
@click.option("--instructions", type=FILE, default=None,
              help="Instruction records to project over [default: the config's data source and limit].")
def estimate(config_file, instructions):
    """Project the calls, tokens and USD of the teacher, the ranking judge and the Vicuna QA
    judge for CONFIG_FILE, and what human labelling would cost instead.

    Prompt tokens are counted from the actual prompts (4 characters per token); a response
    is as long as the original Alpaca output (capped at max_tokens), a Vicuna answer as its
    max_tokens. The worst case assumes every answer uses max_tokens.
    """
    from tuna import config, cost_estimate

    click.echo(cost_estimate.report(config.load_file(config_file), instructions))


COMMANDS = [cost]
