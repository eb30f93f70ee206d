"""A tiny random llama checkpoint with a small real tokenizer, built in-process (no downloads)."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    "### Instruction: ### Input: ### Response: user assistant",
    "The quick brown fox jumps over the lazy dog. Name three colors: red, green and blue.",
    "Count to five: one two three four five. Paris is the capital of France.",
]


def tiny_tokenizer():
    """A byte-level BPE tokenizer (any text encodes) with chat special tokens and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   chat_template=CHAT_TEMPLATE)


def tiny_llama(vocab_size: int = 400, seed: int = 0, **overrides):
    """A 2-layer llama with grouped-query attention, random weights from `seed`."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         eos_token_id=2, bos_token_id=None, pad_token_id=0, **overrides)
    return LlamaForCausalLM(config).float()


def save_tiny_checkpoint(path: Path, seed: int = 0, **overrides) -> Path:
    """An HF checkpoint directory (safetensors + tokenizer) like `tuna import-model` writes."""
    tokenizer = tiny_tokenizer()
    tiny_llama(len(tokenizer), seed, **overrides).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
