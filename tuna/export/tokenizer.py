"""A transformers tokenizer as llama.cpp's GGUF tokenizer keys.

Two families of tokenizer.json BPE models are understood:

- byte-level BPE (GPT-2 style, SmolLM2): GGUF model "gpt2", the vocabulary and merges
  as they are, and the pre-tokenizer named the way llama.cpp knows it;
- byte-fallback BPE (SentencePiece converted, LLaMA): GGUF model "llama". llama.cpp
  merges the adjacent pair whose merged token has the highest score, so a token's score
  is minus the rank of the first merge producing it: the same order HF applies merges in.

What the tokenizer does (BOS/EOS added or not, leading space) is read off by encoding a
probe, rather than re-derived from each tokenizer.json variant's options.
"""

from __future__ import annotations

import json
from pathlib import Path

import gguf

from tuna.errors import TunaError

# llama.cpp's names (tokenizer.ggml.pre) for the byte-level pre-tokenizers we recognise,
# keyed by the sequence of HF pre-tokenizer steps.
BYTE_LEVEL = ("ByteLevel", False, True)  # (type, add_prefix_space, use_regex)
PRE_TOKENIZERS = {
    (BYTE_LEVEL,): "gpt-2",
    (("Digits", True), BYTE_LEVEL): "smollm",  # digits split one by one, then GPT-2's regex
}


def add_tokenizer(writer: gguf.GGUFWriter, checkpoint: Path, n_vocab: int) -> None:
    """Write the tokenizer of `checkpoint` (its tokenizer.json) for an n_vocab-row embedding."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        spec = json.loads(tokenizer.backend_tokenizer.to_str())
    except (OSError, ValueError, AttributeError) as exc:
        raise TunaError(f"{checkpoint}: no usable fast tokenizer (tokenizer.json): {exc}") from exc
    model = spec["model"]
    if model["type"] != "BPE":
        raise TunaError(f"{checkpoint}/tokenizer.json: model type {model['type']} is not supported (BPE only)")
    tokens = {token_id: text for text, token_id in tokenizer.get_vocab().items()}
    if max(tokens) >= n_vocab:
        raise TunaError(f"{checkpoint}: tokenizer has {len(tokens)} tokens but the embedding only {n_vocab} rows")
    byte_fallback = bool(model.get("byte_fallback"))

    writer.add_token_list([tokens.get(i, f"[PAD{i}]") for i in range(n_vocab)])  # rows past the tokenizer
    writer.add_token_types(_token_types(tokenizer, tokens, n_vocab, byte_fallback))
    merges = [" ".join(pair) if isinstance(pair, list) else pair for pair in model["merges"]]
    if byte_fallback:
        writer.add_tokenizer_model("llama")
        writer.add_tokenizer_pre("default")
        writer.add_token_scores(_merge_scores(merges, tokens, n_vocab))
        writer.add_add_space_prefix(_adds_space_prefix(tokenizer))
    else:
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre(_pre_tokenizer_name(spec.get("pre_tokenizer"), checkpoint))
        if any(" " in part for pair in model["merges"] if isinstance(pair, list) for part in pair):
            raise TunaError(f"{checkpoint}/tokenizer.json: merges containing spaces are not supported")
        writer.add_token_merges(merges)
    _add_special_tokens(writer, tokenizer)


def _token_types(tokenizer, tokens: dict[int, str], n_vocab: int, byte_fallback: bool) -> list[gguf.TokenType]:
    """Special added tokens are CONTROL (parsed in prompts, never printed), other added
    tokens USER_DEFINED; byte-fallback vocabularies also have UNKNOWN and BYTE tokens."""
    special = {token_id for token_id, added in tokenizer.added_tokens_decoder.items() if added.special}
    added = set(tokenizer.added_tokens_decoder) - special

    def token_type(token_id: int) -> gguf.TokenType:
        text = tokens.get(token_id)
        if text is None:
            return gguf.TokenType.UNUSED
        if byte_fallback and token_id == tokenizer.unk_token_id:
            return gguf.TokenType.UNKNOWN
        if token_id in special:
            return gguf.TokenType.CONTROL
        if token_id in added:
            return gguf.TokenType.USER_DEFINED
        if byte_fallback and len(text) == 6 and text.startswith("<0x"):
            return gguf.TokenType.BYTE
        return gguf.TokenType.NORMAL

    return [token_type(i) for i in range(n_vocab)]


def _add_special_tokens(writer: gguf.GGUFWriter, tokenizer) -> None:
    """Special token ids, whether BOS/EOS are added to a text, and the chat template."""
    for kind in ("bos", "eos", "unk", "pad", "sep"):
        token_id = getattr(tokenizer, f"{kind}_token_id", None)
        if token_id is not None:
            getattr(writer, f"add_{kind}_token_id")(token_id)
    with_specials = tokenizer("probe")["input_ids"]
    without = tokenizer("probe", add_special_tokens=False)["input_ids"]
    writer.add_add_bos_token(with_specials[:1] != without[:1] and with_specials[:1] == [tokenizer.bos_token_id])
    writer.add_add_eos_token(with_specials[-1:] != without[-1:] and with_specials[-1:] == [tokenizer.eos_token_id])
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)


def _pre_tokenizer_name(pre: dict | None, checkpoint: Path) -> str:
    steps = pre.get("pretokenizers", [pre]) if pre else []
    key = tuple(
        (s["type"], s.get("add_prefix_space", True), s.get("use_regex", True)) if s["type"] == "ByteLevel"
        else (s["type"], s.get("individual_digits"))
        for s in steps
    )
    if key not in PRE_TOKENIZERS:
        raise TunaError(f"{checkpoint}/tokenizer.json: pre_tokenizer {json.dumps(pre)} has no llama.cpp "
                        f"equivalent we know (supported: {', '.join(PRE_TOKENIZERS.values())})")
    return PRE_TOKENIZERS[key]


def _merge_scores(merges: list[str], tokens: dict[int, str], n_vocab: int) -> list[float]:
    """Token scores for llama.cpp's SentencePiece-style merging: -rank of the first merge
    that yields the token; tokens no merge yields (characters, bytes, specials) come last."""
    rank_of = {}
    for rank, merge in enumerate(merges):
        rank_of.setdefault(merge.replace(" ", ""), rank)
    lowest = -float(len(merges))
    return [-float(rank_of[tokens[i]]) if i in tokens and tokens[i] in rank_of else lowest for i in range(n_vocab)]


def _adds_space_prefix(tokenizer) -> bool:
    """Whether the tokenizer prepends the SentencePiece space marker to a text."""
    first = tokenizer.convert_ids_to_tokens(tokenizer("probe", add_special_tokens=False)["input_ids"])[0]
    return first.startswith("\u2581")
