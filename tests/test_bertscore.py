"""BERTScore of Super-NI answers through bert-score, on a tiny random BERT built here (the
paper's roberta-large is downloaded on a real machine; no hub access in tests)."""

from __future__ import annotations

import json

import pytest
from tuna_cli import tuna

from tuna.errors import TunaError
from tuna.evaluate import bertscore, superni_scoring

TEXTS = ["the cat sat on the mat .", "a dog ran in the park .", "yes", "no", "the answer is yes .",
         "paris is the capital of france ."]


def save_bert(path):
    """A 2-layer random BERT with a word-level vocabulary of TEXTS."""
    from transformers import BertConfig, BertModel, BertTokenizer

    words = sorted({w for text in TEXTS for w in text.split()})
    (path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    BertTokenizer(str(path / "vocab.txt"), model_max_length=64).save_pretrained(path)
    BertModel(BertConfig(vocab_size=len(words) + 5, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64)).save_pretrained(path)


def save_roberta(path):
    """A 2-layer random RoBERTa (roberta-large's family) with a byte-level BPE trained on TEXTS."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(TEXTS, vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.save_model(str(path))
    tokenizer = RobertaTokenizer(str(path / "vocab.json"), str(path / "merges.txt"), model_max_length=60)
    tokenizer.save_pretrained(path)
    RobertaModel(RobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                               intermediate_size=64, max_position_embeddings=64, pad_token_id=1)).save_pretrained(path)


@pytest.fixture(scope="module", params=["bert", "roberta"])
def tiny_bert(request, tmp_path_factory):
    """A tiny random encoder saved as a local transformers directory, as bert-score loads one."""
    import torch

    path = tmp_path_factory.mktemp(request.param)
    torch.manual_seed(0)
    {"bert": save_bert, "roberta": save_roberta}[request.param](path)
    return bertscore.BertScoreModel(str(path), layers=2, batch_size=4)


def test_identical_texts_score_one_and_others_less(tiny_bert):
    [(p, r, f), (_, _, other), (_, _, empty)] = bertscore.instance_scores(
        ["the cat sat on the mat .", "a dog ran in the park .", ""],
        [["the cat sat on the mat ."], ["the cat sat on the mat ."], ["yes"]], tiny_bert)
    assert (p, r, f) == pytest.approx((1.0, 1.0, 1.0), abs=1e-5)
    assert 0 < other < 0.9999
    assert empty == 0.0  # bert-score's rule for an empty answer


def test_several_references_take_the_best(tiny_bert):
    single = [f for _, _, f in bertscore.instance_scores(["the answer is yes ."] * 2, [["yes"], ["no"]], tiny_bert)]
    [(_, _, both)] = bertscore.instance_scores(["the answer is yes ."], [["no", "yes"]], tiny_bert)
    assert both == pytest.approx(max(single), abs=1e-6)


def test_a_local_model_needs_its_layer(tiny_bert):
    with pytest.raises(TunaError, match="give its layer"):
        bertscore.instance_scores(["yes"], [["yes"]], bertscore.BertScoreModel(tiny_bert.name))


def test_eval_superni_adds_bertscore_beside_rouge(tiny_bert, tmp_path):
    instances = [{"id": f"t-{i}", "input": "q", "output": [text]} for i, text in enumerate(TEXTS)]
    task = {"Definition": ["Answer."], "Categories": ["Made Up"], "Positive Examples": [], "Instances": instances}
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "task1_made_up.json").write_text(json.dumps(task))
    (tmp_path / "split.txt").write_text("task1_made_up\n")
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"id": i["id"], "model": "m", "candidates": [
        {"text": i["output"][0] if n % 2 == 0 else "no", "n_tokens": 1}]}) + "\n" for n, i in enumerate(instances)))
    run = tuna("eval-superni", "--tasks-dir", str(tmp_path / "tasks"), "--tasks",
               str(tmp_path / "split.txt"), "--answers", f"0={answers}", "--bertscore-model",
               tiny_bert.name, "--bertscore-layers", "2", "--model-name", "m",
               "-o", str(tmp_path / "superni.json"))
    assert "BERTScore F1" in run.output
    result = json.loads((tmp_path / "superni.json").read_text())["shots"]["0"]
    assert result["bertscore"]["model"] == tiny_bert.name and result["bertscore"]["layers"] == 2
    per_instance = result["per_instance"]["task1_made_up"]
    right = [per_instance[f"t-{n}"]["bertscore_f1"] for n in range(0, len(TEXTS), 2)]
    assert right == pytest.approx([1.0] * len(right), abs=1e-5)
    assert per_instance["t-3"]["bertscore_f1"] == pytest.approx(1.0, abs=1e-5)  # "no" answered to "no"
    assert per_instance["t-1"]["bertscore_f1"] < 0.9999 and per_instance["t-1"]["rougeL"] == 0.0
    mean = 100 * sum(s["bertscore_f1"] for s in per_instance.values()) / len(TEXTS)
    assert result["bertscore"]["f1"] == pytest.approx(mean, abs=1e-3)
    assert superni_scoring.score  # the same scorer as without BERTScore: ROUGE-L unchanged
    assert result["rougeL"] == pytest.approx(100 * 4 / 6, abs=1e-3)
