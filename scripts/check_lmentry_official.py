"""Compare tuna's LMentry verdicts and scores with the official code, run side by side.

    python scripts/check_lmentry_official.py --official PATH/TO/lmentry-checkout [--examples 20] [--models 5]

PATH is a checkout of aviaefrat/lmentry (with its data/ folder and num2words installed).
Three checks, each printing how many results disagree (exit status 1 if any does):

1. the case table tests/lmentry_cases.py, through the official scorers;
2. generated answers (statements x wrappers, chatty and odd ones) on N random examples of
   each of the 41 data files, verdict and certainty;
3. LMentry score, accuracy, robustness and its four aspects of synthetic models (random
   per-example verdicts), by the official analysis reading prediction files that this
   script writes into the checkout's predictions/ folder.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from lmentry_cases import CASES, Q  # noqa: E402

from tuna.evaluate import lmentry  # noqa: E402
from tuna.evaluate.lmentry_scoring import base_task, score_prediction  # noqa: E402

STATEMENTS = [
    "{a}", "{d}", "{a} has more letters than {d}", "{d} has fewer letters", "{a} is longer by 3 letters",
    "{a} has a single more letter", "{d} is shorter than {a}", "{a} is bigger than {d}", "{d} is smaller", "{a} > {d}",
    "Of the numbers {n1} and {n2}, {a} is bigger", "{a} comes first alphabetically", "{d} comes after {a}",
    "Of the words {w1} and {w2}, {a} comes first", "{a} does", "{q} rhymes with {a}", "A rhyme of {q} is {a}",
    "{d} doesn't rhyme with {q}", "{q} sounds like {a}, but not like {d}", "The homophone of {q} is {a}",
    "{c} - {a}", "The word least associated with {c} is {a}", "{a} relates to {c} the most",
    "The first letter of {w} is {a}", "{a} is the starting letter of {w}", "Last letter: {a}", "{w} ends with {a}",
    "The first word of the sentence is {a}", "First word: {a}", "{s} ends with {a}", "{a} follows {q}",
    "{q} precedes {a}", "{q} comes right before {a}", "{s}", "{l}pple", "{l}", "x{l}", "One possible word is {l}og",
    "How about {l}ox?", "{l} is for {l}ap", "xy{l} is a word whose last letter is {l}", "Dog doesn't contain {l}",
    "{w} is what I saw.", "I saw\n{w}.", "The sentence is: {w} grows fast.", "We like {w}s.", "the sentence",
    "Yes", "No", "No, they are not all {c}.", "Yes, they all represent {c}", "日本語", "١٢٣", "?!", "", "café au lait",
]
WRAPPERS = [
    "{x}", "{x}.", "{X}!", "The answer is {x}.", 'The answer is "{x}".', "Answer: {x}", "Answer - {x}",
    "Of course, it's {x}.", "{x} is the answer", "Sure! {x}", "{x}\n\nExplanation: because.", "\t{x}",
    "{question} {x}", "{question}", "{x} {x}", 'The word "{x}"', "{x}  \t ", "I think {x}", "{x}_", "{x}?",
]


def fill(statement: str, name: str, example: dict, rng: random.Random) -> str:
    """A statement about one example, with its own arguments put in."""
    m = example["metadata"]
    answer = m.get("answer", m.get("word", m.get("letter", "x")))
    if base_task(name) in ("all_words_from_category", "any_words_from_category"):
        answer = rng.choice(["yes", "no"])
    return statement.format(a=answer, d=m.get("distractor", (m.get("distractors") or ["zz"])[0]),
                            q=m.get("query", "q"), c=m.get("category", "c"), w=m.get("word", m.get("word1", "w")),
                            s=m.get("sentence", "s"), l=m.get("letter", "e"), n1=m.get("n1", 1), n2=m.get("n2", 2),
                            w1=m.get("word1", "w1"), w2=m.get("word2", "w2"))


def check_cases(scorers, data_dir: Path) -> int:
    bad = 0
    for name, key, _, answer, score, certainty, _why in CASES:
        example = lmentry.load_file(data_dir, name)[key]
        text = answer.replace(Q, example["input"])
        official = tuple(scorers[base_task(name)]().score_prediction(text, example))
        if official != (score, certainty) or official != score_prediction(name, text, example):
            bad += 1
            print(f"case {name}/{key} {text!r}: table {(score, certainty)}, official {official}")
    print(f"1. case table: {len(CASES)} cases, {bad} disagreements")
    return bad


def check_generated(scorers, data_dir: Path, examples: int, rng: random.Random) -> int:
    bad = total = 0
    for name in lmentry.FILES:
        file = lmentry.load_file(data_dir, name)
        scorer = scorers[base_task(name)]()
        for key in rng.sample(sorted(file), min(examples, len(file))):
            example = file[key]
            for statement in STATEMENTS:
                x = fill(statement, name, example, rng)
                wrapper = rng.choice(WRAPPERS)
                answer = (wrapper.replace("{question}", example["input"]).replace("{X}", x.capitalize())
                          .replace("{x}", x))
                total += 1
                official = tuple(scorer.score_prediction(answer, example))
                ours = score_prediction(name, answer, example)
                if official != ours:
                    bad += 1
                    print(f"answer {name}/{key} {answer!r}: official {official}, tuna {ours}")
    print(f"2. generated answers: {total} answers, {bad} disagreements")
    return bad


def check_scores(official_dir: Path, data_dir: Path, models: int, rng: random.Random) -> int:
    from lmentry.analysis.accuracy import get_model_accuracy
    from lmentry.analysis.robustness import get_model_robustness, main_metric_name_to_metric

    data, bad = lmentry.load(data_dir), 0
    for i in range(models):
        model = f"tuna-synthetic-{i}"
        rate = {name: rng.random() for name in data}
        verdicts = {name: {key: (int(rng.random() < rate[name]), 1) for key in examples}
                    for name, examples in data.items()}
        for name, scored in verdicts.items():
            path = official_dir / "predictions" / name / f"{model}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({k: {"prediction": "", "score": s, "certainty": c}
                                        for k, (s, c) in scored.items()}))
        accuracy, robustness = get_model_accuracy(model), get_model_robustness(model)
        official = (round(accuracy * (robustness / 100), 1), round(accuracy, 1), round(robustness, 1),
                    {k: round(metric(model_name=model), 1) for k, metric in main_metric_name_to_metric.items()})
        lmentry.verdicts, saved = (lambda *_, fixed=verdicts: fixed), lmentry.verdicts
        try:
            ours = lmentry.score(data, {})
        finally:
            lmentry.verdicts = saved
        mine = (ours["lmentry_score"], ours["accuracy"], ours["robustness"], ours["robustness_aspects"])
        if mine != official:
            bad += 1
            print(f"{model}: official {official}, tuna {mine}")
    print(f"3. synthetic models: {models} models, {bad} disagreements")
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=Path, required=True, help="checkout of aviaefrat/lmentry")
    parser.add_argument("--examples", type=int, default=20, help="examples per data file for check 2")
    parser.add_argument("--models", type=int, default=5, help="synthetic models for check 3")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(args.official))
    from lmentry.scorers.scorer_mapping import task_name_to_scorer

    data_dir, rng = args.official / "data", random.Random(args.seed)
    bad = (check_cases(task_name_to_scorer, data_dir)
           + check_generated(task_name_to_scorer, data_dir, args.examples, rng)
           + check_scores(args.official, data_dir, args.models, rng))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
