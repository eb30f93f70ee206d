"""The held-out evaluation stages, file in, file out: what `eval-agreement` and `eval-nll` do.

Each scores a checkpoint (or, for agreement, a proxy ranking model) on the examples of
a file, only the held-out split's when it is given, and writes one result: what was
measured, on which split, then the numbers, with its provenance stamp.
"""

from __future__ import annotations

from pathlib import Path

from tuna import provenance
from tuna.datasets import read_ids
from tuna.errors import TunaError
from tuna.records import write_json


def evaluate_agreement(checkpoint: Path, ranked: Path, held_out: Path | None, template: str, max_length: int,
                       batch_size: int, model_name: str, data_name: str | None, out: Path) -> str:
    """Pair accuracy, Kendall tau, Spearman and mean margin of the model's length-normalised
    log-likelihoods (or a proxy ranking model's scores, with its own template and
    max_length) against the ranks of `ranked`."""
    from tuna.evaluate.agreement import model_agreement, prm_agreement
    from tuna.ranking.prm import PRM_CONFIG

    ids = read_ids(held_out) if held_out else frozenset()
    if (checkpoint / PRM_CONFIG).exists():
        result = prm_agreement(checkpoint, ranked, ids)
    else:
        result = model_agreement(checkpoint, ranked, ids, template, max_length, batch_size)
    result = _write_result(out, {"benchmark": "agreement", "model": model_name, "ranking": data_name or str(ranked)},
                           result, [ranked, checkpoint, held_out], template, max_length)
    return (f"{out}: {result['data']}; pair accuracy {result['pair_accuracy']:.3f} "
            f"(se {result['pair_accuracy_se'] or 0:.3f}), Kendall tau {result['kendall_tau'] or 0:.3f}, "
            f"mean margin {result['mean_margin']:.4f}")


def evaluate_nll(checkpoint: Path, data: str, held_out: Path | None, template: str, max_length: int,
                 batch_size: int, model_name: str, data_name: str | None, out: Path) -> str:
    """Token-level NLL of the reference responses of `data` (a path, or a file on the Hub, fetched
    and pinned) under the model (Table 5 picks beta by it)."""
    from tuna import hub
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
    result = response_nll(checkpoint, path, read_ids(held_out) if held_out else frozenset(), template, max_length,
                          batch_size)
    result = _write_result(out, {"benchmark": "nll", "model": model_name, "nll_data": data_name or data},
                           result, [path, checkpoint, held_out], template, max_length)
    return f"{out}: {result['data']}; NLL {result['nll']:.4f} per token over {result['tokens']} tokens"


def _write_result(out: Path, header: dict, result: dict, inputs: list, template: str, max_length: int) -> dict:
    """The result file (what was measured, on which split, then the numbers) and its provenance."""
    result = {**header, "held_out": inputs[-1] is not None, **result}
    write_json(out, result)
    provenance.stamp([out], inputs=inputs, params={"template": template, "max_length": max_length})
    return result
