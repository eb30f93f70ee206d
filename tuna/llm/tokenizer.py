"""A model's own tokenizer without its weights, for budgets counted in the model's tokens.

Super-NI prompts (tuna.evaluate.superni) follow Tk-Instruct's `max_source_length`,
which counts tokens as the evaluated model's tokenizer makes them: a GGUF's own
vocabulary for llama.cpp models, the checkpoint's tokenizer for transformers ones.
Special tokens are added as the model adds them (`tokenizer(text)` in transformers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tuna import hub
from tuna.errors import TunaError
from tuna.sources import resolve

# A repository's tokenizer files (vocabularies, merges, SentencePiece models, configs), not its weights.
TOKENIZER_FILES = ["*.json", "*.model", "*.txt", "*.tiktoken"]


@dataclass(frozen=True)
class Tokenizer:
    name: str
    encode: Callable[[str], list[int]]  # text -> ids, with the model's special tokens (BOS/EOS)
    decode: Callable[[list[int]], str]  # ids -> text, special tokens skipped


def load_tokenizer(location: str | Path) -> Tokenizer:
    """The tokenizer of a GGUF file or a transformers directory (also `pkg:` resources), or of a Hub
    repository (`hf:openai-community/gpt2`, Tk-Instruct's measure for GPT-3: its tokenizer files
    only, fetched on first use and named by their commit)."""
    location = str(location)
    if hub.is_hub(location):
        fetched = hub.fetch(location, allow=TOKENIZER_FILES)
        path, name = fetched.path, fetched.pinned
    else:
        path = resolve(location)
        name = str(path)
    if path.is_dir():
        return _transformers(path, name)
    if path.suffix == ".gguf":
        return _gguf(path, name)
    raise TunaError(f"{location}: not a tokenizer (expected a .gguf file or a transformers directory)")


def _transformers(path: Path, name: str) -> Tokenizer:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{name}: no transformers tokenizer there ({exc})") from exc
    return Tokenizer(name, lambda text: tokenizer(text)["input_ids"],
                     lambda ids: tokenizer.decode(ids, skip_special_tokens=True))


def _gguf(path: Path, name: str) -> Tokenizer:
    import llama_cpp

    try:
        llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    except ValueError as exc:
        raise TunaError(f"{path}: llama.cpp cannot read its vocabulary ({exc})") from exc

    def decode(ids: list[int]) -> str:
        # A cut can split a multi-byte character: drop the partial bytes.
        return llm.detokenize(ids, special=False).decode("utf-8", errors="ignore")

    # add_bos=True is llama.cpp's add_special: BOS/EOS only where the vocabulary asks for them.
    return Tokenizer(name, lambda text: llm.tokenize(text.encode("utf-8"), add_bos=True, special=False), decode)
