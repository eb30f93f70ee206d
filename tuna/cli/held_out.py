"""Held-out evaluation without generation: ranking agreement and response NLL of a checkpoint."""

from __future__ import annotations

import click

from tuna.cli.options import DIR, FILE, field_option, model_name_option, out_option, stack, template_option
from tuna.config.settings import Train

# The options both commands share: which checkpoint, how it was prompted, which split.
scoring_options = stack(
    click.option("--checkpoint", type=DIR, required=True,
                 help="Model checkpoint (transformers format); for eval-agreement also a proxy ranking model."),
    click.option("--held-out", "held_out_file", type=FILE, default=None,
                 help="Score only the examples whose id is in this instruction jsonl (prepare-data --held-out-out) "
                      "[default: every example of --data]."),
    template_option,
    field_option(Train, "max_length", help="Longest prompt + response (+ EOS) in tokens; longer responses are cut."),
    click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True,
                 help="Examples per packed forward."),
    model_name_option,
    out_option("Result JSON."),
)


@click.command("eval-agreement", short_help="Does the model order ranked pairs as the ranking?")
@click.option("--ranked", type=FILE, required=True, help="Ranked jsonl (teacher, judge or PRM ranks; best first).")
@click.option("--data-name", default=None, help="Name of the ranking in the result (e.g. prob_rank) [default: file].")
@scoring_options
def eval_agreement(ranked, data_name, checkpoint, held_out_file, template, max_length, batch_size, model_name, out):
    """How often the model's length-normalised log-likelihood (a proxy ranking model's score)
    orders a pair of ranked responses as the ranking does: pair accuracy, Kendall tau,
    Spearman, mean margin."""
    from tuna.evaluate.agreement import evaluate_agreement

    click.echo(evaluate_agreement(checkpoint, ranked, held_out_file, template, max_length, batch_size, model_name,
                                  data_name, out))


@click.command("eval-nll", short_help="NLL of reference responses under the model.")
@click.option("--data", required=True,
              help="Instruction jsonl, ranked jsonl, Alpaca-format .json (`output` is scored) or a conversation "
                   "jsonl such as LIMA's (its first turn pair); a path or hf:datasets/ORG/NAME/FILE.")
@click.option("--data-name", default=None, help="Name of the data set in the result (e.g. lima) [default: file].")
@scoring_options
def eval_nll(data, data_name, checkpoint, held_out_file, template, max_length, batch_size, model_name, out):
    """Token-level NLL of the reference responses under the model (Table 5 picks beta by it)."""
    from tuna.evaluate.nll import evaluate_nll

    click.echo(evaluate_nll(checkpoint, data, held_out_file, template, max_length, batch_size, model_name, data_name,
                            out))


COMMANDS = [eval_agreement, eval_nll]
