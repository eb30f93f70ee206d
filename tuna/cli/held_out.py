"""Held-out evaluation without generation: ranking agreement and response NLL of a checkpoint."""

from __future__ import annotations

from pathlib import Path

import click

from tuna import hub, provenance
from tuna.config.settings import TEMPLATES, Train, default
from tuna.errors import TunaError
from tuna.records import write_json

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def scoring_options(function):
    """The options both commands share: which checkpoint, how it was prompted, which split."""
    options = [
        click.option("--checkpoint", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
                     help="Model checkpoint directory (transformers format); for eval-agreement also a proxy "
                          "ranking model (prm-train), scored by its head."),
        click.option("--held-out", "held_out_file", type=FILE, default=None,
                     help="Score only the examples whose id is in this instruction jsonl (prepare-data "
                          "--held-out-out) [default: every example of --data]."),
        click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
                     help="Prompt format the model was tuned with."),
        click.option("--max-length", type=click.IntRange(min=16), default=default(Train, "max_length"), show_default=True,
                     help="Longest prompt + response (+ EOS) in tokens, as in training; longer responses are cut."),
        click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True,
                     help="Examples per packed forward."),
        click.option("--model-name", required=True, help="Name of the evaluated model in the result."),
        click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
                     help="Result JSON."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _held_out(path: Path | None) -> frozenset[str]:
    from tuna.datasets import read_ids

    return read_ids(path) if path else frozenset()


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
    from tuna.evaluate.agreement import model_agreement, prm_agreement
    from tuna.ranking.prm import PRM_CONFIG

    if (checkpoint / PRM_CONFIG).exists():
        result = prm_agreement(checkpoint, ranked, _held_out(held_out_file))
    else:
        result = model_agreement(checkpoint, ranked, _held_out(held_out_file), template, max_length, batch_size)
    result = _write_result(out, {"benchmark": "agreement", "model": model_name, "ranking": data_name or str(ranked)},
                           result, [ranked, checkpoint, held_out_file], template, max_length)
    click.echo(f"{out}: {result['data']}; pair accuracy {result['pair_accuracy']:.3f} "
               f"(se {result['pair_accuracy_se'] or 0:.3f}), Kendall tau {result['kendall_tau'] or 0:.3f}, "
               f"mean margin {result['mean_margin']:.4f}")


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
    from tuna.evaluate.nll import response_nll

    if hub.is_hub(data):
        fetched = hub.fetch(data)
        path, data = fetched.path, fetched.pinned
    else:
        path = Path(data)
        if not path.is_file():
            named = f" (evaluation.held_out.nll_data.{data_name} in the workflow)" if data_name else ""
            raise TunaError(f"{data}: no such instruction-response file{named}; provide it there or point the config "
                            "at it")
    result = response_nll(checkpoint, path, _held_out(held_out_file), template, max_length, batch_size)
    result = _write_result(out, {"benchmark": "nll", "model": model_name, "nll_data": data_name or data},
                           result, [path, checkpoint, held_out_file], template, max_length)
    click.echo(f"{out}: {result['data']}; NLL {result['nll']:.4f} per token over {result['tokens']} tokens")


def _write_result(out: Path, header: dict, result: dict, inputs: list, template: str, max_length: int) -> dict:
    """The result file (what was measured, on which split, then the numbers) and its provenance."""
    result = {**header, "held_out": inputs[-1] is not None, **result}
    write_json(out, result)
    provenance.stamp([out], inputs=inputs, params={"template": template, "max_length": max_length})
    return result


COMMANDS = [eval_agreement, eval_nll]
