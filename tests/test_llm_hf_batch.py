"""Batched transformers generation: the same answers as one sequence at a time, per-sample seeds, the journal."""

import pytest
from tiny_llama import save_tiny_checkpoint

from tuna.llm import ProviderSpec, Request, make_provider

# Prompts of different lengths, so batches are left padded.
QUESTIONS = ["Name three colors.", "What is the capital of France? Answer in one word, then explain.",
             "Count to five.", "The quick brown fox jumps over the lazy dog. What does the fox do?"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "checkpoint")


def same_answers(ours, theirs) -> bool:
    """Equal texts, token counts and finish reasons; log-probs equal up to the float rounding of padding."""
    pairs = [(a, b) for x, y in zip(ours, theirs, strict=True) for a, b in zip(x, y, strict=True)]
    return all((a.text, a.n_tokens, a.finish_reason) == (b.text, b.n_tokens, b.finish_reason)
               and a.logprobs == pytest.approx(b.logprobs, abs=1e-4) for a, b in pairs)


def provider(checkpoint, tmp_path, name, batch_size):
    return make_provider(ProviderSpec(kind="hf", model=str(checkpoint), batch_size=batch_size),
                         cache=tmp_path / f"{name}.sqlite")


def test_batched_greedy_equals_one_at_a_time(tiny, tmp_path):
    requests = [Request(q, temperature=0, max_tokens=12) for q in QUESTIONS]
    single = provider(tiny, tmp_path, "single", 1).generate(requests)
    batched = provider(tiny, tmp_path, "batched", 4)
    assert same_answers(batched.generate(requests), single)
    assert all(c.n_tokens == len(c.logprobs) > 0 for [c] in single)


def test_a_sample_depends_on_its_seed_not_on_its_batch(tiny, tmp_path):
    alone = provider(tiny, tmp_path, "alone", 1).generate([Request(QUESTIONS[0], n=3, seed=11, max_tokens=12)])
    crowd = provider(tiny, tmp_path, "crowd", 8).generate(
        [Request(q, n=3, seed=11 if q == QUESTIONS[0] else 5, max_tokens=12) for q in QUESTIONS])
    assert same_answers(crowd[:1], alone)
    assert len({c.text for c in alone[0]}) == 3  # sample k has seed 11 + k
    other = provider(tiny, tmp_path, "other", 8).generate([Request(QUESTIONS[0], n=3, seed=12, max_tokens=12)])
    assert same_answers([other[0][:1]], [alone[0][1:2]])  # seed 12 is sample 1's seed


def test_sampling_logprobs_are_the_models_own(tiny, tmp_path):
    hf = provider(tiny, tmp_path, "scores", 4)
    results = hf.generate([Request(q, n=2, seed=3, max_tokens=10, temperature=1.5) for q in QUESTIONS])
    for question, samples in zip(QUESTIONS, results, strict=True):
        for cand in samples:
            scored = hf.score(hf.prompt(question), cand.text)
            if scored.n_tokens == cand.n_tokens:
                # log-softmax of the raw logits, whatever the sampling temperature
                assert sum(cand.logprobs) == pytest.approx(scored.logprob, abs=1e-3 * cand.n_tokens)


def test_every_batch_is_journaled_and_a_rerun_makes_no_calls(tiny, tmp_path):
    requests = [Request(q, n=2, seed=1, max_tokens=8) for q in QUESTIONS]
    first = provider(tiny, tmp_path, "journal", 3)
    answers = first.generate(requests)
    assert first.meter.calls == 8 and len(first.cache) == 8
    again = provider(tiny, tmp_path, "journal", 3)
    assert again.generate(requests) == answers and again.meter.calls == 0 and again.meter.cached == 8


@pytest.mark.slow
def test_smollm2_batched_greedy_equals_one_at_a_time(smollm2_checkpoint, tmp_path):
    requests = [Request(q, temperature=0, max_tokens=24) for q in QUESTIONS]
    requests.append(Request("Count from 1 to 20, one number per line.", temperature=0, max_tokens=24, stop=("\n",)))
    single = provider(smollm2_checkpoint, tmp_path, "single", 1).generate(requests)
    assert same_answers(provider(smollm2_checkpoint, tmp_path, "batched", 8).generate(requests), single)
    assert single[-1][0].finish_reason == "stop" and "\n" not in single[-1][0].text
    assert any(c.finish_reason == "stop" for [c] in single[:-1])  # some end at <|im_end|>, not at max_tokens
