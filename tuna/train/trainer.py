"""The training loop: data order, micro-batches, resumable state, and the saved checkpoint.

One optimizer step consumes `batch_size` examples (micro_batch_size x accumulation x
ranks); each epoch is a fresh seeded permutation of the examples cut into batches, and
`epochs` may be fractional (the last epoch takes the first part of its permutation). An
epoch's last, partial batch is trained on (`last_batch: keep`, as the authors' released
run: a shorter step, its micro-batches averaged like a full step's) or dropped (`drop`);
the steps and examples used are in the log and the provenance. Every rank runs the same
number of micro-batches in a step (collectives under ZeRO): a rank with fewer real ones
in a short step reruns one with weight 0.

State for `--resume` (tuna.train.state) lives in a directory beside the output, saved
every `save_every` optimizer steps, and is deleted after a successful run.

With `lora` set, adapters are injected into the loaded model and only they train
(tuna.train.lora); the checkpoint saved is the base with the adapter merged in, the
adapter itself in its `adapter/` folder.

Each step's metrics (tuna.train.metrics) are averaged over micro-batches and ranks
(tokens and examples summed) and logged by the main rank only. With a held-out split,
the held-out examples of the data are scored before the first step and after the last
(tuna.train.validation): the checkpoint's validation.json says what the run did.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from tuna import provenance
from tuna.config.layout import VALIDATION_FILE
from tuna.config.settings import Train
from tuna.errors import TunaError
from tuna.records import atomic_dir, write_json
from tuna.train import lora, state
from tuna.train.backends import DTYPES, DeepSpeedBackend, PlainBackend
from tuna.train.data import candidate_counts, describe, load_examples
from tuna.train.forward import ResponseScorer, enable_activation_checkpointing, pack
from tuna.train.loss import TunaLoss
from tuna.train.metrics import LiveMetrics, save_metrics
from tuna.train.ranks import pair_agreement
from tuna.train.reference import attach_reference
from tuna.train.validation import summary, validate


def step_batches(n: int, epochs: float, batch_size: int, seed: int, last_batch: str = "keep") -> list[list[int]]:
    """The example indices of each optimizer step: per epoch one seeded permutation (the last,
    fractional epoch its first int(n * epochs) - n * full epochs indices) cut into batches of
    `batch_size`; an epoch's last partial batch is kept or dropped (`last_batch`)."""
    batches, left, epoch = [], int(n * epochs), 0
    while left > 0:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)).tolist()[:left]
        cut = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        batches += cut if last_batch == "keep" or len(cut[-1]) == batch_size else cut[:-1]
        left, epoch = left - len(order), epoch + 1
    return batches


def train(init: Path, data: Path, out: Path, template: str, settings: Train,
          state_dir: Path | None = None, resume: bool = False, held_out: Path | None = None,
          wandb_project: str | None = None, reference: Path | None = None) -> None:
    """Train from checkpoint `init` on `data` (never on the ids of the `held_out` instruction
    file) and save a from_pretrained-loadable checkpoint to `out`; objective dpo reads its
    frozen reference's log-probs from `reference` (tuna.train.reference)."""
    from transformers import AutoTokenizer

    from tuna.datasets import read_ids

    loss_fn = TunaLoss.from_settings(settings)
    if loss_fn.uses_reference and reference is None:
        raise TunaError("objective dpo trains against a frozen reference: give --reference, a file `tuna reference` "
                        "made from the init checkpoint and this data")

    backend = DeepSpeedBackend(settings) if settings.deepspeed else PlainBackend(settings)
    log = (lambda message: tqdm.write(message, file=sys.stderr)) if backend.is_main else (lambda message: None)
    torch.manual_seed(settings.seed)
    try:
        tokenizer = AutoTokenizer.from_pretrained(init)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{init}: cannot load the tokenizer ({exc})") from exc
    held_out_ids = read_ids(held_out) if held_out else frozenset()
    examples, report = load_examples(data, tokenizer, template, loss_fn, settings.max_length, settings.max_examples,
                                     held_out=held_out_ids)
    if loss_fn.uses_reference:
        attach_reference(examples, reference)
    counts = candidate_counts(examples) if loss_fn.uses_candidates else {}
    log(f"{data}: {describe(report)}"
        + ("; candidates per example: " + ", ".join(f"{n}: {k}" for n, k in counts.items()) if counts else ""))
    validation_examples, validation_data = _validation_examples(data, tokenizer, template, loss_fn, settings,
                                                                held_out_ids, log)
    batches = step_batches(len(examples), settings.epochs, settings.batch_size, settings.seed, settings.last_batch)
    steps, used = len(batches), sum(map(len, batches))
    if steps == 0:
        raise TunaError(f"{data}: {len(examples)} usable examples x {settings.epochs} epochs do not fill one batch "
                        f"of {settings.batch_size}; lower batch_size or add data")
    if (dropped := int(len(examples) * settings.epochs) - used):
        log(f"{dropped} examples that do not fill a last batch are not used (last_batch: drop)")

    model = backend.load_model(init)
    adapter = lora.attach(model, settings.lora) if settings.lora else None
    trained, total = lora.trainable_parameters(model)
    if adapter:
        log(f"LoRA r {settings.lora.r}: {trained:,} of {total:,} parameters train ({100 * trained / total:.2f}%)")
    if settings.gradient_checkpointing:
        enable_activation_checkpointing(model)
    model.train()
    backend.prepare(ResponseScorer(model), steps)
    state_dir = state_dir or out.with_name(out.name + ".state")
    fingerprint = state.fingerprint(init, data, template, settings, backend, held_out, reference)
    start, history, before = state.resume(backend, state_dir, fingerprint, log) if resume else (0, [], None)
    params = {**settings.model_dump(), "template": template, "world_size": backend.world, "backend": backend.kind,
              "held_out": str(held_out) if held_out else None, "reference": str(reference) if reference else None}
    live = LiveMetrics(state_dir / "tensorboard", history, params, wandb_project, out.name) if backend.is_main else None
    if validation_examples and before is None:
        before = _validate(backend, validation_examples, settings, "before training", log)
    if live and before:
        live.add_validation(0, before)
    short = ", ".join(map(str, sorted({len(b) for b in batches if len(b) < settings.batch_size})))
    log(f"training {steps} steps of {settings.batch_size} examples" + (f" (the last of an epoch: {short})" if short else "")
        + f", {used} examples in all, on {backend.world} {backend.kind} rank(s)"
        + (f", resuming after step {start}" if start else ""))

    for step in tqdm(range(start, steps), desc="train", unit="step", disable=not backend.is_main, initial=start,
                     total=steps):
        row = _step(backend, loss_fn, examples, batches[step], settings.micro_batch_size)
        row = {"step": step + 1, **row}
        history.append(row)
        if live:
            live.add(row)
        log(f"step {step + 1}/{steps} " + " ".join(f"{key} {value:.4g}" for key, value in row.items()
                                                   if key != "step" and value is not None))
        if settings.save_every and (step + 1) % settings.save_every == 0 and step + 1 < steps:
            state.save(backend, state_dir, step + 1, fingerprint, history, before)

    validation = None
    if validation_examples:
        after = _validate(backend, validation_examples, settings, "after training", log)
        if live:
            live.add_validation(steps, after)
        validation = summary(before, after, len(validation_examples), validation_data)
    inputs = [data, init] + ([held_out] if held_out else []) + ([reference] if reference else [])
    _save_checkpoint(backend, model, tokenizer, out, inputs=inputs, params=params,
                     extra={"data": dict(report), "candidates per example": counts, "steps": steps,
                            "examples used": used, "trainable parameters": trained,
                            "peak GPU memory (GiB)": backend.peak_memory_gib(), "log": history},
                     validation=validation, adapter=adapter, init=init)
    backend.barrier()
    if backend.is_main:
        live.close()
        shutil.rmtree(state_dir, ignore_errors=True)
    backend.close()
    log(f"{out}: trained {steps} steps, final loss {history[-1]['loss']:.6f}")


def _step(backend, loss_fn: TunaLoss, examples: list, batch: list[int], micro_batch_size: int) -> dict:
    """One optimizer step over this rank's micro-batches (micro-batch m on rank m % world; a rank short
    of one in a short step reruns the first with weight 0); its metrics, reduced over ranks."""
    started = time.perf_counter()
    micro_batches = [batch[i:i + micro_batch_size] for i in range(0, len(batch), micro_batch_size)]
    mine = micro_batches[backend.rank::backend.world]
    rounds = -(-len(micro_batches) // backend.world)  # every rank runs as many (a short step: fewer)
    ranked = loss_fn.ranked
    # summed: loss, L_rank, L_MLE over micro-batches, and their count; pair accuracy and margin over
    # examples, and their count; tokens
    totals, grad_norm, lr = torch.zeros(8, dtype=torch.float64), None, backend.lr
    for index in range(rounds):
        real = index < len(mine)
        packed = pack([examples[i] for i in (mine[index] if real else micro_batches[0])])
        parts, v = _micro_batch_loss(backend, loss_fn, packed)
        grad_norm = backend.learn(parts.loss if real else 0.0 * parts.loss, len(micro_batches),
                                  last=index == rounds - 1)
        if not real:
            continue
        accuracy, margin = pair_agreement(v.detach(), packed.ranks) if ranked else (torch.zeros(0),) * 2
        tokens = sum(p + sum(end - start for start, end in spans) for p, spans in packed.blocks)
        totals += torch.tensor([*(p.item() for p in parts), 1, accuracy.sum().item(), margin.sum().item(),
                                len(accuracy), tokens], dtype=torch.float64)
    loss, rank, mle, count, accuracy, margin, ranked_examples, tokens = backend.sum(totals).tolist()
    seconds = time.perf_counter() - started  # ranks wait for each other in the gradient all-reduce
    return {"loss": loss / count, "rank": rank / count, "mle": mle / count,
            "pair_accuracy": accuracy / ranked_examples if ranked else None,
            "margin": margin / ranked_examples if ranked else None, "grad_norm": grad_norm, "lr": lr,
            "tokens_per_s": tokens / seconds, "examples_per_s": len(batch) / seconds}


def _validation_examples(data: Path, tokenizer, template: str, loss_fn: TunaLoss, settings: Train,
                         held_out_ids: frozenset[str], log) -> tuple[list, str]:
    """The training data's held-out examples, tokenized as for training, and how they were
    chosen ([] when there is nothing to validate on)."""
    if not settings.validate_held_out or not held_out_ids:
        return [], ""
    examples, report = load_examples(data, tokenizer, template, loss_fn, settings.max_length,
                                     held_out=held_out_ids, only_held_out=True)
    if not examples:
        log(f"{data}: no held-out examples to validate on ({describe(report)})")
    return examples, describe(report)


def _validate(backend, examples: list, settings: Train, when: str, log) -> dict:
    with backend.autocast():
        result = validate(backend.module, examples, settings.micro_batch_size)
    log(f"validation {when} on {len(examples)} held-out examples: "
        + " ".join(f"{key} {result[key]:.4g}" for key in ("pair_accuracy", "kendall_tau", "nll")
                   if result.get(key) is not None))
    return result


def _micro_batch_loss(backend, loss_fn: TunaLoss, packed):
    """The loss parts and the candidates' mean log-probs v (C,) of one packed micro-batch."""
    with backend.autocast():
        sums = backend.module(**packed.inputs(backend.device)).float().cpu()
    inputs = packed.loss_inputs(sums)
    return loss_fn(**inputs), inputs["logps"] / inputs["lengths"]


def _save_checkpoint(backend, model, tokenizer, out: Path, inputs, params: dict, extra: dict,
                     validation: dict | None, adapter=None, init: Path | None = None) -> None:
    """save_pretrained (safetensors; a LoRA run's adapter merged into its base, the adapter in
    adapter/) + tokenizer + metrics (+ validation.json) + provenance.json, moved into place whole."""
    weights = backend.full_state_dict(trainable_only=adapter is not None)  # collective under ZeRO-3
    if not backend.is_main:
        return
    weights = {name.removeprefix("model."): tensor for name, tensor in weights.items()}
    with atomic_dir(out) as tmp:
        if adapter is None:
            model.save_pretrained(tmp, state_dict=weights, safe_serialization=True)
        else:
            lora.save_merged(adapter, weights, init, DTYPES[backend.settings.precision], tmp)
        tokenizer.save_pretrained(tmp)
        save_metrics(tmp, extra["log"], validation and {0: validation["before"], extra["steps"]: validation["after"]})
        if validation:
            write_json(tmp / VALIDATION_FILE, validation)
        provenance.stamp([tmp], inputs=inputs, params=params, extra={**extra, "validation": validation})
