"""LLaMA-style (SentencePiece BPE with byte fallback) tokenizers survive the GGUF export.

A real SentencePiece model is trained on tuna's demo data and laid out as HF LLaMA
checkpoints ship it (tokenizer.json: BPE + byte fallback, merges ordered by piece score,
"▁" prefix, BOS added). Ground truth is sentencepiece itself: the HF tokenizer and
llama.cpp on the exported GGUF must both give its ids.
"""

from __future__ import annotations

import io
import json
from importlib import resources

import pytest
from tiny_llama import tiny_llama

from tuna.export import export
from tuna.llm.llamacpp import plain_weight_buffers

SPACE = "\u2581"


def demo_texts() -> list[str]:
    demo = json.loads(resources.files("tuna").joinpath("data/demo_instructions.json").read_text())
    return [text for example in demo for text in example.values() if text]


def train_sentencepiece(texts):
    """A BPE SentencePiece model set up like LLaMA's: byte fallback, no normalization."""
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=model, vocab_size=700, model_type="bpe", byte_fallback=True,
        character_coverage=1.0, normalization_rule_name="identity", remove_extra_whitespaces=False,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2)
    return sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())


def llama_style_tokenizer(sp):
    """The fast tokenizer HF LLaMA checkpoints ship for a SentencePiece model: every split of
    a piece into two pieces is a merge, ranked by the piece's score."""
    from tokenizers import Tokenizer, decoders, models, normalizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    mergeable = [p for p, i in vocab.items() if not (sp.is_byte(i) or sp.is_control(i) or sp.is_unknown(i))]
    splits = [(p, p[:k], p[k:]) for p in mergeable for k in range(1, len(p))]
    merges = sorted(((p, left, right) for p, left, right in splits if left in vocab and right in vocab),
                    key=lambda m: (-sp.get_score(vocab[m[0]]), vocab[m[1]], vocab[m[2]]))
    tokenizer = Tokenizer(models.BPE(vocab, [(left, right) for _, left, right in merges], unk_token="<unk>",
                                     byte_fallback=True, fuse_unk=True))
    tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend(SPACE), normalizers.Replace(" ", SPACE)])
    tokenizer.decoder = decoders.Sequence([decoders.Replace(SPACE, " "), decoders.ByteFallback(), decoders.Fuse(),
                                           decoders.Strip(" ", 1, 0)])
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


@pytest.fixture(scope="module")
def llama_gguf(tmp_path_factory):
    texts = demo_texts()
    sp = train_sentencepiece(texts)
    tokenizer = llama_style_tokenizer(sp)
    checkpoint = tmp_path_factory.mktemp("llama_style") / "checkpoint"
    tokenizer.save_pretrained(checkpoint)
    tiny_llama(len(tokenizer)).save_pretrained(checkpoint)
    export(checkpoint, checkpoint.with_suffix(".f16.gguf"), "f16")
    return sp, tokenizer, checkpoint.with_suffix(".f16.gguf")


def test_llama_cpp_tokenizes_like_sentencepiece_and_transformers(llama_gguf):
    import llama_cpp

    sp, tokenizer, gguf = llama_gguf
    with plain_weight_buffers():
        llm = llama_cpp.Llama(str(gguf), vocab_only=True, verbose=False)
    assert llm.metadata["tokenizer.ggml.model"] == "llama"
    texts = demo_texts() + ["  Two  spaces,\ttabs and\nnewlines; ünïcödé 東京 (bytes) 42!", "x"]
    for text in texts:
        expected = [sp.bos_id()] + sp.encode(text)
        assert tokenizer(text)["input_ids"] == expected, text  # the test's HF layout is faithful
        assert llm.tokenize(text.encode(), add_bos=True, special=False) == expected, text


def test_token_types_follow_sentencepiece(llama_gguf):
    import gguf

    sp, _, path = llama_gguf
    field = gguf.GGUFReader(path).fields["tokenizer.ggml.token_type"]
    types = [int(field.parts[i][0]) for i in field.data]
    expected = [gguf.TokenType.UNKNOWN if sp.is_unknown(i) else gguf.TokenType.CONTROL if sp.is_control(i)
                else gguf.TokenType.BYTE if sp.is_byte(i) else gguf.TokenType.NORMAL for i in range(len(types))]
    assert types == expected
