"""Benchmark: Super-NaturalInstructions scoring of 11,900 predictions (119 tasks x 100).

tuna.evaluate.superni_scoring.score vs the obvious loop of the official script (rouge_score's
RougeScorer per prediction/reference pair, best over references), measured in the same
run on the same synthetic predictions and references of realistic length (labels,
short answers and sentences; 1-3 references per instance). Results must be identical.

    python scripts/bench_superni.py [--seed 0] [--quick]
"""

from __future__ import annotations

import argparse
import random
import string
import time

from rouge_score import rouge_scorer

from tuna.evaluate import superni, superni_scoring

WORDS = ("the a of to and in is was for on that with as by at from model answer question sentence story "
         "people city river running ran runs happily quickly entailment neutral contradiction yes no true false "
         "title summary because however although before after during children played walked house garden "
         "teacher students learned learning book books wrote writes written color colour green red blue").split()


def synthesize(seed: int, n_tasks: int = 119, per_task: int = 100) -> tuple[list[superni.Task], dict[str, str]]:
    rng = random.Random(seed)

    def text(low: int, high: int) -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
        return " ".join(words).capitalize() + rng.choice([".", "", "!", "?"])

    tasks, predictions = [], {}
    for t in range(n_tasks):
        kind = t % 3  # classification labels, short answers, sentence generation
        low, high = [(1, 1), (1, 5), (8, 30)][kind]
        instances = []
        for i in range(per_task):
            refs = [text(low, high) for _ in range(rng.randint(1, 3))]
            iid = f"task{t}-{i}"
            instances.append({"id": iid, "input": "", "output": refs})
            predictions[iid] = rng.choice([refs[0], text(low, high + 10), text(5, 60)])
        tasks.append(superni.Task(f"task{t:03d}_synthetic", f"Category {t % 12}", "Do it.", (), tuple(instances)))
    return tasks, predictions


def obvious(tasks: list[superni.Task], predictions: dict[str, str]) -> tuple[float, float]:
    """The official script's loop: one RougeScorer.score per (prediction, reference)."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    punct = set(string.punctuation)

    def norm(s: str) -> str:
        return " ".join("".join(ch for ch in s.lower() if ch not in punct).split())

    em = rl = 0.0
    n = 0
    for task in tasks:
        for instance in task.instances:
            pred = predictions[instance["id"]]
            em += max(float(norm(pred) == norm(r)) for r in instance["output"])
            rl += max(scorer.score(r, pred)["rougeL"].fmeasure for r in instance["output"])
            n += 1
    return round(100 * em / n, 4), round(100 * rl / n, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (what the test suite runs)")
    args = parser.parse_args()
    tasks, predictions = synthesize(args.seed, *((6, 10) if args.quick else ()))
    n_refs = sum(len(i["output"]) for t in tasks for i in t.instances)
    print(f"{len(predictions)} predictions, {n_refs} references, {len(tasks)} tasks")

    start = time.perf_counter()
    baseline = obvious(tasks, predictions)
    t_obvious = time.perf_counter() - start

    start = time.perf_counter()
    result = superni_scoring.score(tasks, predictions)
    t_tuna = time.perf_counter() - start

    ours = (result["exact_match"], result["rougeL"])
    assert ours == baseline, f"results differ: {ours} vs {baseline}"
    print(f"rouge-score loop : {t_obvious:7.3f} s  (EM {baseline[0]}, ROUGE-L {baseline[1]})")
    print(f"tuna superni     : {t_tuna:7.3f} s  (EM {ours[0]}, ROUGE-L {ours[1]}; + per task and category)")
    print(f"speed-up         : {t_obvious / t_tuna:7.1f}x  (identical results)")


if __name__ == "__main__":
    main()
