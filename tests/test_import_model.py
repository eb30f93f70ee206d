"""The SmolLM2 GGUF becomes a transformers checkpoint that still knows its facts."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tuna.prompts import build_prompt

pytestmark = pytest.mark.slow


def test_imported_checkpoint_answers_paris(smollm2_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(smollm2_checkpoint)
    model = AutoModelForCausalLM.from_pretrained(smollm2_checkpoint)
    assert model.dtype == torch.float32
    assert getattr(model.config, "quantization_config", None) is None  # a plain, trainable model
    prompt = build_prompt("chat", "What is the capital of France?", chat_template=tokenizer.chat_template)
    ids = tokenizer(prompt, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=16, do_sample=False)
    answer = tokenizer.decode(out[0, ids.input_ids.shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer


def test_chat_prompt_matches_the_tokenizers_own_rendering(smollm2_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(smollm2_checkpoint)
    messages = [{"role": "user", "content": "Translate.\n\nbonjour"}]
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert build_prompt("chat", "Translate.", "bonjour", chat_template=tokenizer.chat_template) == expected
