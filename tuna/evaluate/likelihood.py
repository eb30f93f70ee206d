"""Log-likelihoods of responses under a checkpoint, for the held-out agreement and NLL: the
checkpoint loaded as the trainer's packed-row scorer, the file tokenized as the trainer would,
every response scored without gradients (tuna.train.scoring)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch

from tuna.errors import TunaError
from tuna.train.data import Example, load_examples
from tuna.train.scoring import load_scorer, response_logprobs


def score_file(checkpoint: Path, data: Path, template: str, loss, max_length: int, held_out: frozenset[str],
               only_held_out: bool, batch_size: int) -> tuple[list[Example], list[torch.Tensor], Counter]:
    """Load a checkpoint, tokenize `data` as the trainer would and score every response."""
    scorer, tokenizer = load_scorer(checkpoint)
    examples, report = load_examples(data, tokenizer, template, loss, max_length, held_out=held_out,
                                     only_held_out=only_held_out)
    if not examples:
        raise TunaError(f"{data}: no usable examples to score ({dict(report)})")
    return examples, response_logprobs(scorer, examples, batch_size), report


def write_result(out: Path, header: dict, result: dict, inputs: list, template: str, max_length: int) -> dict:
    """The result file (what was measured, on which split, then the numbers) and its provenance."""
    from tuna import provenance
    from tuna.records import write_json

    result = {**header, "held_out": inputs[-1] is not None, **result}
    write_json(out, result)
    provenance.stamp([out], inputs=inputs, params={"template": template, "max_length": max_length})
    return result
