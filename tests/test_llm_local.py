"""llama.cpp and transformers providers on the real SmolLM2 (GGUF and its fp32 import)."""

import json

import pytest

from tuna.llm import ProviderSpec, Request, RequestCache, make_provider

pytestmark = pytest.mark.slow

TEXTS = [
    ("Name three colors.", "Red, green and blue."),
    ("What is the capital of France?", "The capital of France is Paris. It is known for the Eiffel Tower."),
    ("Write a haiku about rain.", "Soft rain on the roof\nwhispers to the sleeping town\nmorning washes clean"),
]


@pytest.fixture(scope="module")
def llama(smollm2_gguf, tmp_path_factory):
    cache = RequestCache(tmp_path_factory.mktemp("cache") / "requests.sqlite")
    return make_provider(ProviderSpec(kind="llamacpp", model=str(smollm2_gguf), n_ctx=1024), cache=cache)


def test_continuation_scores_match_transformers(llama, smollm2_checkpoint, tmp_path):
    hf = make_provider(ProviderSpec(kind="hf", model=str(smollm2_checkpoint)), cache=tmp_path / "c.sqlite")
    for instruction, response in TEXTS:
        prompt = llama.prompt(instruction)
        assert prompt == hf.prompt(instruction) and prompt.startswith("<|im_start|>")
        assert llama.tokenize_prompt(prompt) == hf.tokenize_prompt(prompt)  # no BOS added: SmolLM2
        ours, theirs = llama.score(prompt, response), hf.score(prompt, response)
        assert ours.n_tokens == theirs.n_tokens == len(hf.tokenize_continuation(response))
        # Same dequantized weights; llama.cpp quantizes activations for Q4_1 matmuls (a few %).
        # A one-token misalignment (the echo=True trap) is off by tens of nats.
        assert ours.logprob == pytest.approx(theirs.logprob, rel=0.05, abs=0.1)
        assert theirs.logprob < -1.0  # a real score, not zero


def test_generation_logprobs_are_the_models_own(llama):
    [[a, b]] = llama.generate([Request("List two fruits.", n=2, seed=3, max_tokens=24)])
    assert a.text != b.text  # sample k has seed + k
    for cand in (a, b):
        assert len(cand.logprobs) == cand.n_tokens > 0 and all(lp <= 0 for lp in cand.logprobs)
        assert cand.finish_reason in ("stop", "length")
    # Re-scoring the sampled text gives (close to) the summed sampling log-probs.
    scored = llama.score(llama.prompt("List two fruits."), a.text)
    if scored.n_tokens == a.n_tokens:  # unless re-tokenizing the text splits it differently
        assert scored.logprob == pytest.approx(sum(a.logprobs), abs=0.05 * a.n_tokens + 0.1)
    # The same request again comes from the cache.
    calls = llama.meter.calls
    assert llama.generate([Request("List two fruits.", n=2, seed=3, max_tokens=24)]) == [[a, b]]
    assert llama.meter.calls == calls


def test_constrained_output_and_stop_strings(llama):
    schema = {"type": "object", "properties": {"rank": {"type": "array", "items": {"type": "integer"}}},
              "required": ["rank"]}
    [[judged]] = llama.generate([Request("Rank answers 1, 2 and 3 as JSON.", seed=1, max_tokens=48,
                                         json_schema=schema)])
    if judged.finish_reason == "stop":
        assert isinstance(json.loads(judged.text)["rank"], list)
    else:
        assert judged.text.startswith('{')
    [[stopped]] = llama.generate([Request("Count from 1 to 20, one number per line.", seed=0, max_tokens=64,
                                          temperature=0, stop=("\n",))])
    assert "\n" not in stopped.text and stopped.n_tokens == len(stopped.logprobs)


def test_hf_sampling_logprobs_match_its_scores(smollm2_checkpoint, tmp_path):
    hf = make_provider(ProviderSpec(kind="hf", model=str(smollm2_checkpoint)), cache=tmp_path / "c.sqlite")
    [[cand]] = hf.generate([Request("Name a planet.", seed=5, max_tokens=16)])
    scored = hf.score(hf.prompt("Name a planet."), cand.text)
    assert cand.n_tokens == len(cand.logprobs) > 0
    if scored.n_tokens == cand.n_tokens:
        assert scored.logprob == pytest.approx(sum(cand.logprobs), abs=1e-3 * cand.n_tokens + 1e-3)
