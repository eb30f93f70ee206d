"""`tuna export`: HF llama checkpoints become GGUF files llama.cpp runs like transformers does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tiny_llama import tiny_llama, tiny_tokenizer
from tuna_cli import tuna_process

from tuna.errors import TunaError
from tuna.export import export
from tuna.llm.llamacpp import plain_weight_buffers

NUMBERS = "In 2024, 12345 people paid $3.50 each; 2024 was 20% up on 2023 and 1999."
PROMPT = "<|im_start|>user\nName three colors: red, green and blue. Count 12345!<|im_end|>\n<|im_start|>assistant\n"


def load_gguf(path, **options):
    import llama_cpp

    with plain_weight_buffers():
        return llama_cpp.Llama(str(path), n_ctx=256, n_threads=2, verbose=False, **options)


def vocabulary(llm) -> list[tuple[bytes, int]]:
    """Each token's text and llama.cpp attributes (normal, control, byte, ...)."""
    import llama_cpp

    vocab = llm._model.vocab
    return [(llm.detokenize([i], special=True), llama_cpp.llama_vocab_get_attr(vocab, i)) for i in range(llm.n_vocab())]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A random 2-layer llama with grouped-query attention; weights large enough
    (initializer_range 0.3) that attention, and so the q/k layout, shapes the logits."""
    path = tmp_path_factory.mktemp("tiny") / "tiny"
    tokenizer = tiny_tokenizer()
    tiny_llama(len(tokenizer), seed=0, initializer_range=0.3).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_f32_gguf_gives_the_logits_of_transformers(tiny_checkpoint, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = tmp_path / "tiny.f32.gguf"
    export(tiny_checkpoint, gguf, "f32")
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint)
    ids = tokenizer(PROMPT)["input_ids"]
    llm = load_gguf(gguf, logits_all=True)
    assert llm.tokenize(PROMPT.encode(), add_bos=True, special=True) == ids
    llm.eval(ids)
    ours = np.array(llm.scores[: len(ids)])
    with torch.no_grad():
        expected = AutoModelForCausalLM.from_pretrained(tiny_checkpoint)(torch.tensor([ids])).logits[0].numpy()
    # llama.cpp keeps its KV cache in f16: close, not equal. A wrong q/k layout is off by ~8.
    assert np.abs(ours - expected).max() < 0.01 * np.abs(expected).max()
    assert (ours.argmax(-1) == expected.argmax(-1)).all()


def test_quantized_export_loads_and_generates(tiny_checkpoint, tmp_path):
    out = tmp_path / "tiny.q8_0.gguf"
    tuna_process("export", tiny_checkpoint, "--quant", "q8_0", "-o", out)
    assert json.loads((tmp_path / "tiny.q8_0.gguf.provenance.json").read_text())["params"] == {"quant": "q8_0"}
    llm = load_gguf(out)
    assert llm.metadata["general.file_type"] == "7"  # LLAMA_FTYPE_MOSTLY_Q8_0
    assert "<|im_start|>" in llm.metadata["tokenizer.chat_template"]
    completion = llm(PROMPT, max_tokens=8, temperature=0)
    assert completion["usage"]["completion_tokens"] > 0
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def numbers_tokenizer(pre_tokenizer):
    """Byte-level BPE that learned multi-digit merges, then given `pre_tokenizer`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator([NUMBERS] * 5, trainer)
    tokenizer.pre_tokenizer = pre_tokenizer
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer)


@pytest.mark.parametrize("split_digits", [False, True])
def test_byte_level_pre_tokenizers_tokenize_as_in_transformers(tmp_path, split_digits):
    """GPT-2's regex alone ("gpt-2"), or after splitting digits one by one (SmolLM2's, "smollm"):
    the multi-digit merges apply in the first case only, in transformers and in llama.cpp."""
    from tokenizers import pre_tokenizers

    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    digits = pre_tokenizers.Digits(individual_digits=True)
    tokenizer = numbers_tokenizer(pre_tokenizers.Sequence([digits, byte_level]) if split_digits else byte_level)
    tokenizer.save_pretrained(tmp_path / "numbers")
    tiny_llama(len(tokenizer)).save_pretrained(tmp_path / "numbers")
    export(tmp_path / "numbers", tmp_path / "numbers.gguf", "f16")
    llm = load_gguf(tmp_path / "numbers.gguf", vocab_only=True)
    assert llm.metadata["tokenizer.ggml.pre"] == ("smollm" if split_digits else "gpt-2")
    assert llm.tokenize(NUMBERS.encode(), add_bos=False) == tokenizer(NUMBERS)["input_ids"]


def test_unknown_pre_tokenizer_is_refused(tmp_path):
    from tokenizers import pre_tokenizers

    numbers_tokenizer(pre_tokenizers.ByteLevel(add_prefix_space=True)).save_pretrained(tmp_path / "numbers")
    tiny_llama(300).save_pretrained(tmp_path / "numbers")
    with pytest.raises(TunaError, match="tokenizer.json: pre_tokenizer .* has no llama.cpp equivalent"):
        export(tmp_path / "numbers", tmp_path / "numbers.gguf", "f16")
    assert not list(tmp_path.glob("*.gguf")) and not list(tmp_path.glob(".*"))


def test_unsupported_architecture_is_a_one_line_error(tmp_path):
    checkpoint = tmp_path / "gpt2"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    result = tuna_process("export", checkpoint, "--quant", "f16", "-o", tmp_path / "x.gguf", code=1)
    assert result.stderr.strip() == f"Error: {checkpoint}/config.json: model_type 'gpt2' cannot be exported (llama only)"
    assert not (tmp_path / "x.gguf").exists()


@pytest.mark.slow
def test_smollm2_exported_to_q8_0_answers_like_the_original(smollm2_checkpoint, smollm2_gguf, tmp_path):
    out = tmp_path / "alpaca.q8_0.gguf"
    tuna_process("export", smollm2_checkpoint, "--quant", "q8_0", "-o", out)
    llm = load_gguf(out)
    # Through the chat template carried in the GGUF. With the template's default SmolLM system
    # prompt this 135M model rambles in French even from the published GGUF, hence our own.
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What is the capital of France?"}]
    answer = llm.create_chat_completion(messages, temperature=0, max_tokens=24)["choices"][0]["message"]["content"]
    assert "Paris" in answer
    # The tokenizer is the published GGUF's: same tokens, token types, special ids and template.
    original = load_gguf(smollm2_gguf, vocab_only=True)
    assert vocabulary(llm) == vocabulary(original)
    for key in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_bos_token",
                "tokenizer.chat_template"):
        assert llm.metadata[key] == original.metadata[key]
