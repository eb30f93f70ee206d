#!/usr/bin/env python
"""Benchmark: the held-out agreement forward (packed, no gradients) vs the obvious ones.

`tuna eval-agreement` scores the N ranked responses of an example in one packed
shared-prompt row without gradients (tuna.evaluate.likelihood). The obvious evaluation
runs one forward per response (prompt + response, full-vocabulary log-softmax); the
padded variant puts the N rows of an example batch in one padded forward. All three
must give the same v_k. In the same run the trainer's speed-up (packed vs padded rows,
forward + backward, scripts/bench_train.py's steps) is measured as the target.

Workload: Alpaca-like lengths (prompt 40-80 tokens, responses 50-250), N=4 candidates,
CPU, fp32. The implementations alternate round by round in one process (so load from
other processes hits them alike); examples/s is the median over rounds.

    python scripts/bench_agreement.py [--checkpoint DIR] [--examples 8] [--rounds 3] [--quick]

--quick checks in seconds that the three evaluations still give the same v: a tiny
random llama, lengths a tenth of the above, 2 examples, one round (its timings say
nothing about speed).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from bench_train import SMOLLM2, checkpoint_or_smollm2, load, make_batch, packed_step, padded_step, tiny_checkpoint

from tuna.train.data import Example
from tuna.train.forward import ResponseScorer
from tuna.train.loss import TunaLoss
from tuna.train.scoring import response_logprobs


def packed(model, examples: list[Example]) -> torch.Tensor:
    """tuna: one packed row per example, batches of 4 examples, no gradients."""
    sums = response_logprobs(ResponseScorer(model), examples, batch_size=4)
    return torch.stack([s / torch.tensor([len(r) for r in e.responses]) for e, s in zip(examples, sums, strict=True)])


def per_response(model, examples: list[Example]) -> torch.Tensor:
    """The obvious evaluation: one forward of prompt + response per response, full log-softmax."""
    means = []
    with torch.inference_mode():
        for example in examples:
            for response in example.responses:
                sequence = torch.tensor([example.prompt + response])
                logprobs = model(input_ids=sequence).logits[0, len(example.prompt) - 1:-1].log_softmax(-1)
                means.append(logprobs.gather(1, sequence[0, len(example.prompt):, None]).mean())
    return torch.stack(means).view(len(examples), -1)


def padded(model, examples: list[Example]) -> torch.Tensor:
    """The N rows of each example (prompt repeated) in one padded forward, full log-softmax."""
    rows = []
    with torch.inference_mode():
        for example in examples:
            width = len(example.prompt) + max(map(len, example.responses))
            ids = torch.zeros(len(example.responses), width, dtype=torch.long)
            attention = torch.zeros_like(ids)
            for i, response in enumerate(example.responses):
                ids[i, :len(example.prompt) + len(response)] = torch.tensor(example.prompt + response)
                attention[i, :len(example.prompt) + len(response)] = 1
            logprobs = model(input_ids=ids, attention_mask=attention).logits[:, :-1].log_softmax(-1)
            picked = logprobs.gather(2, ids[:, 1:, None]).squeeze(2)
            mask = attention[:, 1:].clone()
            mask[:, :len(example.prompt) - 1] = 0
            rows.append((picked * mask).sum(1) / mask.sum(1))
    return torch.stack(rows)


EVALUATIONS = {"per-response": per_response, "padded": padded, "tuna": packed}


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def train_forward_backward(model, step, examples):
    step(model, TunaLoss(), examples)[0].backward()
    model.zero_grad(set_to_none=True)


def compare(checkpoint: str, n_examples: int, rounds: int, seed: int, label: str, scale: float = 1.0) -> None:
    model, _ = load(checkpoint)
    batches = [make_batch(model.config.vocab_size, n_examples, 4, seed + i, scale) for i in range(rounds)]
    for batch in batches:
        for example in batch:
            example.original = None  # agreement scores the ranked candidates only
    model.eval()
    values = {name: evaluate(model, batches[0]) for name, evaluate in EVALUATIONS.items()}  # also warms up
    times = {name: [] for name in EVALUATIONS}
    for batch in batches:
        for name, evaluate in EVALUATIONS.items():
            times[name].append(timed(evaluate, model, batch))
    model.train()
    train_batch = make_batch(model.config.vocab_size, 2, 4, seed, scale)
    train_times = {"tuna": [], "padded": []}
    for _ in range(rounds):
        train_times["tuna"].append(timed(train_forward_backward, model, packed_step, train_batch))
        train_times["padded"].append(timed(train_forward_backward, model, padded_step, train_batch))

    print(f"model {label}: fp32, CPU, {torch.get_num_threads()} threads; {n_examples} examples x 4 candidates "
          f"per round, {rounds} rounds, alternating")
    print(f"{'evaluation':14} {'examples/s':>10} {'max |v - v_per_response|':>25}")
    rate = {name: n_examples / statistics.median(seconds) for name, seconds in times.items()}
    for name in EVALUATIONS:
        error = (values[name] - values["per-response"]).abs().max().item()
        print(f"{name:14} {rate[name]:10.3f} {error:25.2e}")
    train_ratio = statistics.median(train_times["padded"]) / statistics.median(train_times["tuna"])
    ratio = rate["tuna"] / rate["per-response"]
    print(f"agreement forward speed-up: {ratio:.2f}x vs per-response, {rate['tuna'] / rate['padded']:.2f}x vs padded; "
          f"trainer's forward+backward speed-up in this run: {train_ratio:.2f}x (target: >= it)")
    same = all(torch.allclose(v, values["per-response"], atol=1e-4, rtol=1e-4) for v in values.values())
    print(f"equal v: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit("the evaluations disagree: they do not compute the same v_k")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="HF checkpoint directory (default: import SmolLM2-135M)")
    parser.add_argument("--examples", type=int, default=8, help="examples per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per implementation (after a warmup)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="a tiny random llama, lengths / 10, 2 examples, one round: checks v agree in seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            compare(tiny_checkpoint(tmp), 2, 1, args.seed, "tiny random llama (--quick)", scale=0.1)
        else:
            compare(checkpoint_or_smollm2(args.checkpoint, tmp), args.examples, args.rounds, args.seed,
                    args.checkpoint or f"{SMOLLM2} (imported)")


if __name__ == "__main__":
    main()
