#!/usr/bin/env python
"""Benchmark: tuna.rouge vs rouge_score on self-sampling's workload.

Pairwise ROUGE-L F1 of 4 responses (~200 words each) per instruction, for 1,000
instructions, as the ROUGE-diversity check of contextual ranking does (Sec. 2.3).
The responses of one instruction are variants of one text (similar, as a model's own
samples are), built from the words of tuna's demo data. Both implementations score
the same texts in the same run; the script fails unless every score is identical.

    python scripts/bench_rouge.py [--instructions 1000] [--stemmer]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from importlib import resources

from rouge_score.rouge_scorer import RougeScorer

from tuna.rouge import RougeL


def responses(n_instructions: int, n_responses: int, length: int, seed: int = 0) -> list[list[str]]:
    """Per instruction, n_responses edited copies (about 30% of words changed) of one text."""
    demo = json.loads(resources.files("tuna").joinpath("data/demo_instructions.json").read_text())
    words = " ".join(" ".join(example.values()) for example in demo).split()
    rng = random.Random(seed)
    out = []
    for _ in range(n_instructions):
        base = rng.choices(words, k=length)
        out.append([" ".join(w if rng.random() > 0.3 else rng.choice(words) for w in base)
                    for _ in range(n_responses)])
    return out


def rouge_score_matrix(scorer: RougeScorer, texts: list[str]) -> list[list[float]]:
    """The obvious baseline: one rouge_score call per unordered pair, mirrored."""
    matrix = [[0.0] * len(texts) for _ in texts]
    for i, j in itertools.combinations_with_replacement(range(len(texts)), 2):
        matrix[i][j] = matrix[j][i] = float(scorer.score(texts[i], texts[j])["rougeL"].fmeasure)
    return matrix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instructions", type=int, default=1000)
    parser.add_argument("--responses", type=int, default=4)
    parser.add_argument("--words", type=int, default=200, help="words per response")
    parser.add_argument("--stemmer", action="store_true", help="Porter stemming (use_stemmer=True)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (what the test suite runs)")
    args = parser.parse_args()
    if args.quick:
        args.instructions, args.words = 20, 30

    data = responses(args.instructions, args.responses, args.words)
    start = time.perf_counter()
    baseline = RougeScorer(["rougeL"], use_stemmer=args.stemmer)
    expected = [rouge_score_matrix(baseline, texts) for texts in data]
    baseline_s = time.perf_counter() - start

    start = time.perf_counter()
    ours = RougeL(use_stemmer=args.stemmer)
    got = [ours.pairwise_f1(texts) for texts in data]
    ours_s = time.perf_counter() - start

    if got != expected:
        raise SystemExit("FAIL: tuna.rouge scores differ from rouge_score")
    pairs = args.instructions * args.responses * (args.responses + 1) // 2
    print(f"pairwise ROUGE-L, {args.instructions} instructions x {args.responses} responses x "
          f"{args.words} words ({pairs} pairs incl. self), stemmer={args.stemmer}")
    print(f"rouge_score : {baseline_s:8.3f} s")
    print(f"tuna.rouge  : {ours_s:8.3f} s")
    print(f"speedup     : {baseline_s / ours_s:8.1f}x  (all {len(data) * args.responses ** 2} scores identical)")


if __name__ == "__main__":
    main()
