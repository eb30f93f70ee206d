"""The stage runner with a local model: the checkpoint named by the sha256 of its files, no failure allowed."""

import json

import pytest
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna

from tuna.provenance import sha256_file


@pytest.mark.slow
def test_a_local_checkpoint_is_named_by_the_sha256_of_its_files(tmp_path):
    checkpoint = save_tiny_checkpoint(tmp_path / "tiny")
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"id": "q1", "instruction": "Say hi."}) + "\n")
    out = tmp_path / "answers.jsonl"
    tuna("generate-answers", "--prompts", str(prompts), "--max-tokens", "4",
         "--provider", "hf", "--model", str(checkpoint), "--cache",
         str(tmp_path / "c.sqlite"), "-o", str(out))
    stamp = json.loads((tmp_path / "answers.jsonl.provenance.json").read_text())
    files = {p.name: sha256_file(p) for p in checkpoint.iterdir() if p.suffix in (".json", ".safetensors")}
    assert "model.safetensors" in files and "tokenizer.json" in files
    assert stamp["model"] == {"kind": "hf", "model": str(checkpoint), "template": "chat", "sha256": files}
    assert stamp["calls"] == {"calls": 1, "answered": 1, "cached": 0, "failed": 0, "max_failed": 0.0, "errors": {}}
