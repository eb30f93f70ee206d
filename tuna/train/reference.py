"""DPO's frozen reference: the init checkpoint's log-probs of every training candidate, computed once.

`tuna reference` tokenizes the training data exactly as `tuna train` will (same data,
template, held-out split and the loader's keys, settings.REFERENCE_KEYS), scores every
candidate with the init checkpoint by the packed forward without gradients
(tuna.train.scoring), and writes one line per example (tuna.records.ReferenceScores): each
candidate's summed log-prob, keyed by a digest of its token ids. The workflow makes it
once per DPO model (results/reference/{model}.jsonl) and reruns reuse it; the trainer
reads it by example id and response digest (`attach_reference`), so the reference model
is never in memory beside the trained one. A training example or response the file has
no log-prob of (made from other data, tokenizer, template or max_length) is a one-line
error naming the file.
"""

from __future__ import annotations

import hashlib
from array import array
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import torch

from tuna import provenance
from tuna.config.settings import REFERENCE_KEYS, Train
from tuna.errors import TunaError
from tuna.records import ReferenceLogprob, ReferenceScores, read_jsonl, write_jsonl
from tuna.train.backends import DTYPES
from tuna.train.data import Example, describe, load_examples
from tuna.train.loss import TunaLoss
from tuna.train.scoring import load_scorer, response_logprobs


def digest(ids: list[int]) -> str:
    """A response's identity: a short hash of its token ids."""
    return hashlib.blake2b(array("q", ids).tobytes(), digest_size=8).hexdigest()


def write_reference(init: Path, data: Path, out: Path, template: str, settings: Train,
                    held_out: Path | None = None) -> str:
    """Score the candidates of every training example of `data` (not the ids of `held_out`)
    with `init` and write them to `out`; returns a one-line summary."""
    from tuna.datasets import read_ids

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    scorer, tokenizer = load_scorer(init, device)
    examples, report = load_examples(data, tokenizer, template, TunaLoss.from_settings(settings), settings.max_length,
                                     settings.max_examples, held_out=read_ids(held_out) if held_out else frozenset())
    if not examples:
        raise TunaError(f"{data}: no training example to score ({describe(report)})")
    candidates_only = [replace(e, original=None) for e in examples]  # the originals never meet the reference
    dtype = DTYPES[settings.precision]
    with torch.autocast(device.type, dtype=dtype) if dtype != torch.float32 else nullcontext():
        sums = response_logprobs(scorer, candidates_only, settings.micro_batch_size)
    write_jsonl(out, (ReferenceScores(id=e.id, candidates=[
        ReferenceLogprob(digest=digest(c), tokens=len(c), logp=logp) for c, logp in zip(e.candidates, s.tolist(),
                                                                                         strict=True)])
        for e, s in zip(examples, sums, strict=True)))
    keys = settings.model_dump(include=set(REFERENCE_KEYS))
    provenance.stamp([out], inputs=[data, init, held_out], params={"template": template, **keys},
                     extra={"data": dict(report), "device": device.type})
    responses = sum(len(e.candidates) for e in examples)
    return f"{out}: reference log-probs of {responses} candidates of {describe(report)}"


def attach_reference(examples: list[Example], path: Path) -> None:
    """Give each example its candidates' reference log-probs from `path` (by id and response digest)."""
    table = {r.id: {c.digest: c.logp for c in r.candidates} for r in read_jsonl(path, ReferenceScores)}
    for example in examples:
        scores = table.get(example.id)
        if scores is None:
            raise TunaError(f"{path}: no reference log-probs of example {example.id}; make the file from the "
                            "training data with `tuna reference`")
        missing = [i for i, c in enumerate(example.candidates) if digest(c) not in scores]
        if missing:
            raise TunaError(f"{path}: example {example.id}: candidate {missing[0]} was scored with other tokens "
                            "(another tokenizer, template or max_length?); make the file again with `tuna reference`")
        example.reference = [scores[digest(c)] for c in example.candidates]
