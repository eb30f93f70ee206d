"""Held-out evaluation without generation: ranking agreement and response NLL of a checkpoint."""

from __future__ import annotations

import click

from tuna.cli.options import DIR, FILE, field_option, model_name_option, out_option
from tuna.config.settings import TEMPLATES, Train


def scoring_options(function):
    """The options both commands share: which checkpoint, how it was prompted, which split."""
    options = [
        click.option("--checkpoint", type=DIR, required=True,
                     help="Model checkpoint directory (transformers format); for eval-agreement also a proxy "
                          "ranking model (prm-train), scored by its head."),
        click.option("--held-out", "held_out_file", type=FILE, default=None,
                     help="Score only the examples whose id is in this instruction jsonl (prepare-data "
                          "--held-out-out) [default: every example of --data]."),
        click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
                     help="Prompt format the model was tuned with."),
        field_option(Train, "max_length",
                     help="Longest prompt + response (+ EOS) in tokens, as in training; longer responses are cut."),
        click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True,
                     help="Examples per packed forward."),
        model_name_option,
        out_option("Result JSON."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command("eval-agreement")
@click.option("--ranked", type=FILE, required=True,
              help="Ranked jsonl (teacher, judge or PRM ranks; candidates best first).")
@click.option("--data-name", default=None, help="Name of the ranking in the result (e.g. prob_rank) [default: file].")
@scoring_options
def eval_agreement(ranked, data_name, checkpoint, held_out_file, template, max_length, batch_size, model_name, out):
    """How often the model's length-normalised log-likelihood orders a pair of ranked
    responses as the ranking does (pair accuracy, Kendall tau, Spearman, mean margin).

    A proxy ranking model's scores are compared with the ranking the same way (its own
    template and max_length apply).
    """
    from tuna.evaluate.agreement import evaluate_agreement

    click.echo(evaluate_agreement(checkpoint, ranked, held_out_file, template, max_length, batch_size, model_name,
                                  data_name, out))


@click.command("eval-nll")
@click.option("--data", required=True,
              help="Instruction-response file: instruction jsonl, ranked jsonl, Alpaca-format .json (`output` is "
                   "scored) or a conversation jsonl such as LIMA's train.jsonl (its first turn pair); a path or a "
                   "file on the Hugging Face Hub (hf:datasets/GAIR/lima/train.jsonl).")
@click.option("--data-name", default=None,
              help="Name of the data set in the result (e.g. lima, the key of evaluation.held_out.nll_data) "
                   "[default: file].")
@scoring_options
def eval_nll(data, data_name, checkpoint, held_out_file, template, max_length, batch_size, model_name, out):
    """Token-level NLL of the reference responses under the model (Table 5 picks beta by it)."""
    from tuna.evaluate.nll import evaluate_nll

    click.echo(evaluate_nll(checkpoint, data, held_out_file, template, max_length, batch_size, model_name, data_name,
                            out))


COMMANDS = [eval_agreement, eval_nll]
