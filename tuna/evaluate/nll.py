"""Token-level NLL of the responses of an instruction-response file (the paper's Table 5).

Appendix A picks beta by the NLL Tuna_p models give a held-out instruction set (LIMA's
training set): the total negative log-likelihood of every response token (EOS
included) divided by the number of such tokens, under the model's own prompt template.
Any Alpaca-format file, or the held-out split of the workflow's instructions, works.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from tuna.errors import TunaError
from tuna.evaluate.likelihood import score_file, write_result
from tuna.train.data import describe
from tuna.train.loss import TunaLoss


def response_nll(checkpoint: Path, data: Path, held_out: frozenset[str], template: str, max_length: int,
                 batch_size: int = 4) -> dict:
    """NLL per token of each example's reference response (`output`), pooled over the file
    (or over its held-out examples when `held_out` is given)."""
    examples, sums, report = score_file(checkpoint, data, template, TunaLoss(objective="mle"), max_length,
                                        held_out, bool(held_out), batch_size)
    total = -torch.cat(sums).sum().item()
    tokens = sum(len(e.original) for e in examples)
    return {"examples": len(examples), "tokens": tokens, "nll": total / tokens, "perplexity": math.exp(total / tokens),
            "data": describe(report)}


def evaluate_nll(checkpoint: Path, data: str, held_out: Path | None, template: str, max_length: int,
                 batch_size: int, model_name: str, data_name: str | None, out: Path) -> str:
    """Token-level NLL of the reference responses of `data` (a path, or a file on the Hub, fetched
    and pinned) under the model (Table 5 picks beta by it)."""
    from tuna import hub
    from tuna.datasets import read_ids

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
    result = write_result(out, {"benchmark": "nll", "model": model_name, "nll_data": data_name or data},
                          result, [path, checkpoint, held_out], template, max_length)
    return f"{out}: {result['data']}; NLL {result['nll']:.4f} per token over {result['tokens']} tokens"
