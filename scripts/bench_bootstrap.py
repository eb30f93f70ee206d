"""Benchmark: paired bootstrap of a Super-NI delta, 10,000 resamples of 119 tasks x 100 instances.

tuna.evaluate.significance.paired_mean_delta (one array of indices per chunk of
resamples) vs the obvious loops, measured in the same run on the same synthetic
per-instance ROUGE-L scores: a pure-Python loop (random.choices per task per resample)
and a loop of one numpy resample at a time. The loops run on a share of the resamples
and are extrapolated per resample (timing 10,000 pure-Python resamples takes minutes).

    python scripts/bench_bootstrap.py [--resamples 10000] [--loop-resamples 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np

from tuna.evaluate.significance import Settings, paired_mean_delta

TASKS, PER_TASK = 119, 100


def python_loop(differences: list[list[float]], resamples: int, seed: int) -> list[float]:
    """Resample each task's instances with random.choices; mean of all drawn differences."""
    rng = random.Random(seed)
    total = sum(len(task) for task in differences)
    return [100.0 * sum(sum(rng.choices(task, k=len(task))) for task in differences) / total
            for _ in range(resamples)]


def numpy_loop(differences: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """One resample at a time, each task drawn with numpy."""
    rng = np.random.default_rng(seed)
    return np.array([100.0 * np.mean([rng.choice(task, task.size) for task in differences])
                     for _ in range(resamples)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--loop-resamples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (what the test suite runs)")
    args = parser.parse_args()
    if args.quick:
        args.resamples, args.loop_resamples = 200, 10

    rng = np.random.default_rng(args.seed)
    baseline = rng.random((TASKS, PER_TASK))
    model = np.clip(baseline + rng.normal(0.01, 0.1, baseline.shape), 0, 1)

    start = time.perf_counter()
    delta = paired_mean_delta(model.ravel(), baseline.ravel(), sizes=[PER_TASK] * TASKS,
                              settings=Settings(args.resamples, args.seed))
    vectorised = time.perf_counter() - start

    differences = model - baseline
    start = time.perf_counter()
    loop = python_loop(differences.tolist(), args.loop_resamples, args.seed)
    python_per = (time.perf_counter() - start) / args.loop_resamples
    start = time.perf_counter()
    numpy_resampled = numpy_loop(differences, args.loop_resamples, args.seed)
    numpy_per = (time.perf_counter() - start) / args.loop_resamples

    print(f"{args.resamples:,} resamples of {TASKS} x {PER_TASK} instances")
    print(f"  vectorised:    {vectorised:7.2f} s   delta {delta.delta:+.3f}, 95% CI [{delta.low:+.3f}, "
          f"{delta.high:+.3f}], p {delta.p_value:.4f}")
    print(f"  python loop:   {python_per * args.resamples:7.2f} s (extrapolated from {args.loop_resamples}; "
          f"resampled sd {statistics.stdev(loop):.3f})")
    print(f"  numpy loop:    {numpy_per * args.resamples:7.2f} s (extrapolated; resampled sd "
          f"{numpy_resampled.std(ddof=1):.3f}; vectorised sd {(delta.high - delta.low) / 3.92:.3f} from the CI)")
    print(f"  speed-up: {python_per * args.resamples / vectorised:.0f}x vs the python loop, "
          f"{numpy_per * args.resamples / vectorised:.1f}x vs the numpy loop")


if __name__ == "__main__":
    main()
