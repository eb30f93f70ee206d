"""The training loop: data order, micro-batches, resumable state, and the saved checkpoint.

One optimizer step consumes `batch_size` examples (micro_batch_size x accumulation x
ranks); each epoch is a fresh seeded permutation of the examples, `epochs` may be
fractional, and examples that do not fill a last step are dropped (counted in the log),
so every rank always runs the same number of micro-batches.

State for `--resume` lives in a directory beside the output: one `step<K>/` saved every
`save_every` optimizer steps and `tuna_state.json` naming it (written last, so a run
killed while saving resumes from the previous state). The state is tied to the data,
init checkpoint and settings by a fingerprint and deleted after a successful run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from tuna import provenance
from tuna.errors import TunaError
from tuna.records import atomic_dir, write_json
from tuna.train.backends import DeepSpeedBackend, PlainBackend
from tuna.train.data import describe, load_examples
from tuna.train.forward import ResponseScorer, enable_activation_checkpointing, pack
from tuna.train.loss import TunaLoss
from tuna.config.settings import Train

STATE_FILE = "tuna_state.json"


def example_order(n: int, epochs: float, seed: int) -> list[int]:
    """Example indices in training order: one seeded permutation per (possibly partial) epoch."""
    order, epoch = [], 0
    while len(order) < int(n * epochs):
        order += torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        epoch += 1
    return order[:int(n * epochs)]


def rank_micro_batches(step_examples: list[int], micro_batch_size: int, world: int, rank: int) -> list[list[int]]:
    """This rank's micro-batches of one optimizer step (micro-batch m goes to rank m % world)."""
    micro = [step_examples[i:i + micro_batch_size] for i in range(0, len(step_examples), micro_batch_size)]
    return micro[rank::world]


def train(init: Path, data: Path, out: Path, template: str, settings: Train,
          state_dir: Path | None = None, resume: bool = False) -> None:
    """Train from checkpoint `init` on `data` and save a from_pretrained-loadable checkpoint to `out`."""
    from transformers import AutoTokenizer

    backend = DeepSpeedBackend(settings) if settings.deepspeed else PlainBackend(settings)
    log = (lambda message: tqdm.write(message, file=sys.stderr)) if backend.is_main else (lambda message: None)
    torch.manual_seed(settings.seed)
    try:
        tokenizer = AutoTokenizer.from_pretrained(init)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{init}: cannot load the tokenizer ({exc})") from exc
    loss_fn = settings.loss()
    examples, report = load_examples(data, tokenizer, template, loss_fn, settings.max_length, settings.max_examples)
    log(f"{data}: {describe(report)}")
    order = example_order(len(examples), settings.epochs, settings.seed)
    steps = len(order) // settings.batch_size
    if steps == 0:
        raise TunaError(f"{data}: {len(examples)} usable examples x {settings.epochs} epochs do not fill one batch "
                        f"of {settings.batch_size}; lower batch_size or add data")
    if len(order) % settings.batch_size:
        log(f"{len(order) % settings.batch_size} examples that do not fill a last batch are not used")

    model = backend.load_model(init)
    if settings.gradient_checkpointing:
        enable_activation_checkpointing(model)
    model.train()
    backend.prepare(ResponseScorer(model), steps)
    state_dir = state_dir or out.with_name(out.name + ".state")
    fingerprint = _fingerprint(init, data, template, settings, backend)
    start, history = _resume(backend, state_dir, fingerprint, log) if resume else (0, [])
    log(f"training {steps} steps of {settings.batch_size} examples on {backend.world} {backend.kind} rank(s)"
        + (f", resuming after step {start}" if start else ""))

    for step in tqdm(range(start, steps), desc="train", unit="step", disable=not backend.is_main, initial=start,
                     total=steps):
        batch = order[step * settings.batch_size:(step + 1) * settings.batch_size]
        micro_batches = rank_micro_batches(batch, settings.micro_batch_size, backend.world, backend.rank)
        totals, lr = torch.zeros(3, dtype=torch.float64), backend.lr
        for index, ids in enumerate(micro_batches):
            parts = _micro_batch_loss(backend, loss_fn, pack([examples[i] for i in ids]))
            backend.learn(parts.loss, last=index == len(micro_batches) - 1)
            totals += torch.tensor([p.item() for p in parts], dtype=torch.float64)
        loss, rank, mle = (backend.mean(totals / len(micro_batches))).tolist()
        history.append({"step": step + 1, "loss": loss, "rank": rank, "mle": mle, "lr": lr})
        log(f"step {step + 1}/{steps} loss {loss:.6f} rank {rank:.6f} mle {mle:.6f} lr {lr:.3g}")
        if settings.save_every and (step + 1) % settings.save_every == 0 and step + 1 < steps:
            _save_state(backend, state_dir, step + 1, fingerprint, history)

    _save_checkpoint(backend, model, tokenizer, out, inputs=[data, init], params={
        **settings.model_dump(), "template": template, "world_size": backend.world, "backend": backend.kind,
    }, extra={"data": dict(report), "steps": steps, "log": history})
    backend.barrier()
    if backend.is_main:
        shutil.rmtree(state_dir, ignore_errors=True)
    backend.close()
    log(f"{out}: trained {steps} steps, final loss {history[-1]['loss']:.6f}")


def _micro_batch_loss(backend, loss_fn: TunaLoss, packed):
    with backend.autocast():
        sums = backend.module(**packed.inputs(backend.device)).float().cpu()
    means, lengths = sums / packed.lengths, packed.lengths
    original = packed.original
    return loss_fn(means[packed.candidates], None if original is None else means[original],
                   lengths[packed.candidates], None if original is None else lengths[original])


def _fingerprint(init: Path, data: Path, template: str, settings: Train, backend) -> str:
    """What a resumed run must share with the saved state (not save_every)."""
    identity = {"settings": {**settings.model_dump(), "save_every": None}, "template": template, "world": backend.world,
                "backend": backend.kind, "data": provenance.describe_input(data),
                "init": provenance.describe_input(init)}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def _save_state(backend, state_dir: Path, step: int, fingerprint: str, history: list) -> None:
    tag = f"step{step}"
    backend.save_state(state_dir / tag)
    backend.barrier()
    if backend.is_main:
        write_json(state_dir / STATE_FILE, {"step": step, "tag": tag, "fingerprint": fingerprint, "history": history})
        for old in state_dir.glob("step*"):
            if old.name != tag:
                shutil.rmtree(old, ignore_errors=True)
    backend.barrier()


def _resume(backend, state_dir: Path, fingerprint: str, log) -> tuple[int, list]:
    marker = state_dir / STATE_FILE
    if not marker.exists():
        log(f"{state_dir}: no saved state, starting from the beginning")
        return 0, []
    state = json.loads(marker.read_text(encoding="utf-8"))
    if state["fingerprint"] != fingerprint:
        raise TunaError(f"{state_dir}: saved by a run with other data, init or settings; "
                        f"delete it to start over, or run without --resume")
    backend.load_state(state_dir / state["tag"])
    return state["step"], state["history"]


def _save_checkpoint(backend, model, tokenizer, out: Path, inputs, params: dict, extra: dict) -> None:
    """save_pretrained (safetensors) + tokenizer + provenance.json, moved into place whole."""
    weights = backend.full_state_dict()  # collective under ZeRO-3: every rank takes part
    if not backend.is_main:
        return
    weights = {name.removeprefix("model."): tensor for name, tensor in weights.items()}
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp, state_dict=weights, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        provenance.stamp([tmp], inputs=inputs, params=params, extra=extra)
