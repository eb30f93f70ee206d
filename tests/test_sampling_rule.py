"""The resampling rule of Sec. 2.3 on a scripted generator (no model needed)."""

import pytest

from tuna.config.settings import Sampling
from tuna.ranking.sampling import sample_diverse
from tuna.records import Candidate, Instruction


class Script:
    """Answers each round from a fixed list per instruction; remembers what was asked."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = {key: list(texts) for key, texts in answers.items()}
        self.asked = []

    def __call__(self, batch):
        self.asked.append([(record.id, count, temperature) for record, count, temperature, _ in batch])
        return [[Candidate(text=self.answers[record.id].pop(0), n_tokens=3, temperature=temperature)
                 for _ in range(count)] for record, count, temperature, _ in batch]


def instruction(ident):
    return Instruction(id=ident, instruction=f"task {ident}")


def test_diverse_samples_are_kept_in_one_round():
    texts = ["red apple pie", "blue ocean waves", "green forest trail", "yellow desert sun"]
    script = Script({"a": texts})
    [generation] = sample_diverse([instruction("a")], script, Sampling(n=4), model="m")
    assert [c.text for c in generation.candidates] == texts
    assert generation.trials == 4 and script.asked == [[("a", 4, 1.0)]]
    assert all(generation.rouge_l[i][j] < 0.8 for i in range(4) for j in range(4) if i != j)
    assert all(generation.rouge_l[i][i] == 1.0 for i in range(4))


def test_similar_sample_is_redrawn_at_higher_temperature():
    script = Script({
        "a": ["the cat sat on the mat", "the cat sat on the mat", "a dog ran home", "birds fly south",
              "fish swim deep"],
        "b": ["one", "two", "three", "four"],
    })
    generations = sample_diverse([instruction("a"), instruction("b")], script, Sampling(n=4), model="m")
    assert script.asked == [[("a", 4, 1.0), ("b", 4, 1.0)], [("a", 1, 1.1)]]
    assert [c.text for c in generations[0].candidates] == [
        "the cat sat on the mat", "a dog ran home", "birds fly south", "fish swim deep"]
    assert generations[0].candidates[-1].temperature == 1.1
    assert generations[0].trials == 5 and generations[1].trials == 4


def test_least_similar_draw_is_kept_after_max_trials():
    near = ["w1 w2 w3 w4 w5 w6 w7 w8 w9 x", "w1 w2 w3 w4 w5 w6 w7 w8 y z", "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10"]
    script = Script({"a": ["w1 w2 w3 w4 w5 w6 w7 w8 w9 w10", near[0], near[1], near[2]]})
    [generation] = sample_diverse([instruction("a")], script, Sampling(n=2, max_trials=3), model="m")
    assert script.asked == [[("a", 2, 1.0)], [("a", 1, 1.1)], [("a", 1, 1.2)]]
    assert generation.trials == 4
    # F1 with the kept sample: 0.9, 0.8, 1.0 -> the 0.8 one (drawn at T = 1.1) is kept.
    assert generation.candidates[1].text == near[1]
    assert generation.candidates[1].temperature == 1.1
    assert generation.rouge_l[0][1] == pytest.approx(0.8)
