"""Training a proxy ranking model through the trainer's backends (tuna.train.backends).

What `tuna train` offers applies here the same way (the `prms.NAME` keys it shares with
`train`): plain torch on a CPU or one GPU, DeepSpeed ZeRO ranks on many, precision,
LoRA on the backbone (the score head always trains), micro-batches with gradient
accumulation, the step schedule of tuna.train.trainer.step_batches, and state saved
every `save_every` steps to resume from (tuna.train.state). One example is one judged
instruction with all its ranked responses (tuna.train.data's rules: at least two rank
groups, failed or empty responses left out, max_length). Each step's loss, pair
accuracy (of the scores before the step), gradient norm, learning rate and speed are
logged, saved in the PRM's directory (metrics.jsonl/.csv, TensorBoard) and its provenance.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from tuna import provenance
from tuna.config.settings import Prm
from tuna.errors import TunaError
from tuna.ranking.prm import ProxyRanker, pairwise_loss, save
from tuna.records import atomic_dir
from tuna.train import lora, state
from tuna.train.backends import DTYPES, DeepSpeedBackend, PlainBackend
from tuna.train.data import describe, load_examples
from tuna.train.forward import enable_activation_checkpointing, pack
from tuna.train.loss import TunaLoss
from tuna.train.metrics import LiveMetrics, save_metrics
from tuna.train.ranks import pair_agreement
from tuna.train.trainer import step_batches


def train(backbone: Path, ranked: Path, out: Path, template: str, settings: Prm, held_out: Path | None = None,
          state_dir: Path | None = None, resume: bool = False) -> list[dict]:
    """Fit the judge's rankings in `ranked` (never those of the `held_out` split's ids) from the
    checkpoint `backbone`; save the PRM to `out`. Returns the step metrics (on the main rank; [] on others)."""
    from transformers import AutoTokenizer

    from tuna.datasets import read_ids

    backend = DeepSpeedBackend(settings) if settings.deepspeed else PlainBackend(settings)
    log = (lambda message: tqdm.write(message, file=sys.stderr)) if backend.is_main else (lambda message: None)
    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    held_out_ids = read_ids(held_out) if held_out else frozenset()
    # The judge's candidates only (no original response), with at least one ranked pair.
    examples, report = load_examples(ranked, tokenizer, template, TunaLoss(mle_weight=0.0), settings.max_length,
                                     held_out=held_out_ids)
    if not examples:
        raise TunaError(f"{ranked}: no ranking with two or more ranked candidates to learn from ({describe(report)})")
    log(f"{ranked}: {describe(report)}")
    batches = step_batches(len(examples), settings.epochs, settings.batch_size, settings.seed, settings.last_batch)
    model = backend.load_model(backbone, causal_lm=False)
    adapter = lora.attach(model, settings.lora, causal_lm=False) if settings.lora else None
    if settings.gradient_checkpointing:
        enable_activation_checkpointing(model)
    ranker = ProxyRanker(model)  # the head: trainable, after the seed, the same on every rank
    ranker.train()
    backend.prepare(ranker, len(batches))
    state_dir = state_dir or out.with_name(out.name + ".state")
    fingerprint = state.fingerprint(backbone, ranked, template, settings, backend, held_out)
    start, history, _ = state.resume(backend, state_dir, fingerprint, log) if resume else (0, [], None)
    params = {**settings.model_dump(), "template": template, "world_size": backend.world, "backend": backend.kind,
              "held_out": str(held_out) if held_out else None}
    live = LiveMetrics(state_dir / "tensorboard", history, params) if backend.is_main else None
    log(f"training the proxy ranker {len(batches)} steps of {settings.batch_size} rankings on {backend.world} "
        f"{backend.kind} rank(s)" + (f", resuming after step {start}" if start else ""))
    for step in tqdm(range(start, len(batches)), desc="prm train", unit="step", disable=not backend.is_main,
                     initial=start, total=len(batches)):
        row = {"step": step + 1, **_step(backend, examples, batches[step], settings.micro_batch_size)}
        history.append(row)
        if live:
            live.add(row)
        log(f"step {step + 1}/{len(batches)} " + " ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "step"))
        if settings.save_every and (step + 1) % settings.save_every == 0 and step + 1 < len(batches):
            state.save(backend, state_dir, step + 1, fingerprint, history, None)

    weights = backend.full_state_dict(trainable_only=adapter is not None)  # collective under ZeRO-3
    if backend.is_main:
        with atomic_dir(out) as tmp:
            if adapter is not None:
                body = {name.removeprefix("backbone."): w for name, w in weights.items() if name.startswith("backbone.")}
                lora.save_merged(adapter, body, backbone, DTYPES[settings.precision], tmp, causal_lm=False)
            save(tmp, weights, tokenizer, template, settings.max_length, backbone=None if adapter else model)
            save_metrics(tmp, history)
            provenance.stamp([tmp], inputs=[ranked, backbone] + ([held_out] if held_out else []), params=params,
                             extra={"data": dict(report), "steps": len(batches),
                                    "examples used": sum(map(len, batches)),
                                    "held_out_rankings": report["held out"],
                                    "peak GPU memory (GiB)": backend.peak_memory_gib(), "log": history})
    backend.barrier()
    if backend.is_main:
        live.close()
        shutil.rmtree(state_dir, ignore_errors=True)
    backend.close()
    return history if backend.is_main else []


def _step(backend, examples: list, batch: list[int], micro_batch_size: int) -> dict:
    """One optimizer step over this rank's micro-batches of rankings (micro-batch m on rank m % world;
    a rank short of one in a short step reruns the first with weight 0), reduced over ranks."""
    started, lr = time.perf_counter(), backend.lr
    micro_batches = [batch[i:i + micro_batch_size] for i in range(0, len(batch), micro_batch_size)]
    mine = micro_batches[backend.rank::backend.world]
    rounds = -(-len(micro_batches) // backend.world)
    totals, grad_norm = torch.zeros(5, dtype=torch.float64), None  # loss, micro-batches, accuracy, rankings, tokens
    for index in range(rounds):
        real = index < len(mine)
        packed = pack([examples[i] for i in (mine[index] if real else micro_batches[0])])
        with backend.autocast():
            scores = backend.module(**packed.inputs(backend.device)).float().cpu()[packed.candidates]
        loss = pairwise_loss(scores, packed.ranks)
        grad_norm = backend.learn(loss if real else 0.0 * loss, len(micro_batches), last=index == rounds - 1)
        if real:
            accuracy, _ = pair_agreement(scores.detach(), packed.ranks)
            tokens = sum(p + sum(end - start for start, end in spans) for p, spans in packed.blocks)
            totals += torch.tensor([loss.item(), 1, accuracy.sum().item(), len(accuracy), tokens], dtype=torch.float64)
    loss, count, accuracy, rankings, tokens = backend.sum(totals).tolist()
    seconds = time.perf_counter() - started
    return {"loss": loss / count, "pair_accuracy": accuracy / rankings, "grad_norm": grad_norm, "lr": lr,
            "tokens_per_s": tokens / seconds, "examples_per_s": len(batch) / seconds}
