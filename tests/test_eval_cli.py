"""The evaluation commands end to end on the real SmolLM2 (llama.cpp) and the real benchmark
files: prompts -> greedy answers -> scores / judgements -> report."""

from __future__ import annotations

import json
import shutil

import pytest
from tuna_cli import tuna_process

from tuna.config.report_spec import ReportSpec


@pytest.mark.slow
def test_benchmarks_end_to_end_with_smollm2(tmp_path, shared_data, smollm2_gguf, monkeypatch):
    monkeypatch.setenv("TUNA_CACHE", str(tmp_path / "cache.sqlite"))
    model = ["--provider", "llamacpp", "--model", smollm2_gguf]
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for name in ("task1344_glue_entailment_classification", "task219_rocstories_title_answer_generation"):
        shutil.copy(shared_data / "super_ni" / "tasks" / f"{name}.json", tasks)
    (tmp_path / "split.txt").write_text("task1344_glue_entailment_classification\n"
                                        "task219_rocstories_title_answer_generation\n")
    questions = tmp_path / "questions.jsonl"
    lines = (shared_data / "vicuna_qa" / "fastchat_eval_table" / "question.jsonl").read_text().splitlines()
    questions.write_text("\n".join(lines[:3]) + "\n")

    # Vicuna: two "models" (chat vs Alpaca template of the same weights), judged in both orders.
    tuna_process("eval-prompts", "--benchmark", "vicuna", "--data", questions, "-o", tmp_path / "vq.jsonl")
    for name, template in (("tuna", "chat"), ("alpaca", "alpaca")):
        tuna_process("generate-answers", "--prompts", tmp_path / "vq.jsonl", "--max-tokens", 24, *model,
                     "--template", template, "-o", tmp_path / name / "answers" / "vicuna.jsonl")
    again = tuna_process("generate-answers", "--prompts", tmp_path / "vq.jsonl", "--max-tokens", 24, *model,
                         "--template", "chat", "-o", tmp_path / "again.jsonl")
    assert "0 calls made, 3 from cache" in again.stdout
    tuna_process("judge-vicuna", "--questions", questions, "--style", "pairwise", "--judge-prompts",
                 shared_data / "vicuna_qa" / "llm_judge" / "judge_prompts.jsonl", "--constrained", "--max-tokens", 16,
                 "--answers", tmp_path / "tuna" / "answers" / "vicuna.jsonl",
                 "--baseline-answers", tmp_path / "alpaca" / "answers" / "vicuna.jsonl",
                 "--model-name", "tuna", "--baseline-name", "alpaca", *model,
                 "-o", tmp_path / "tuna" / "vicuna.json", "--judgements", tmp_path / "tuna" / "judgements.jsonl")
    result = json.loads((tmp_path / "tuna" / "vicuna.json").read_text())
    assert result["questions"] == 3 and result["unparsed"] == 0
    assert result["win"] + result["lose"] + result["tie"] == 3
    raw = [json.loads(line) for line in (tmp_path / "tuna" / "judgements.jsonl").read_text().splitlines()]
    assert len(raw) == 6 and {r["order"] for r in raw} == {"model_first", "baseline_first"}
    assert all(r["verdict"] and r["attempts"][r["used"]]["outcome"] == "ok" for r in raw)
    stamp = json.loads((tmp_path / "tuna" / "vicuna.json.provenance.json").read_text())
    assert stamp["model"]["kind"] == "llamacpp" and len(stamp["model"]["sha256"]) == 64
    assert (tmp_path / "tuna" / "vicuna.cost.json").exists()

    # Super-NI (0-shot) and LMentry for both models.
    made = tuna_process("eval-prompts", "--benchmark", "superni", "--data", tasks, "--tasks", tmp_path / "split.txt",
                        "--shots", 0, "--instances-per-task", 2, "--tokenizer", smollm2_gguf,
                        "-o", tmp_path / "s0.jsonl")
    assert "4 superni prompts (0 cut to 1024 tokens" in made.stdout
    tuna_process("eval-prompts", "--benchmark", "lmentry", "--data", shared_data / "lmentry" / "data",
                 "--limit-per-task", 1, "-o", tmp_path / "lm.jsonl")
    for name, template in (("tuna", "chat"), ("alpaca", "alpaca")):
        tuna_process("generate-answers", "--prompts", tmp_path / "s0.jsonl", "--max-tokens", 12, *model,
                     "--template", template, "-o", tmp_path / f"{name}_s0.jsonl")
        tuna_process("eval-superni", "--tasks-dir", tasks, "--tasks", tmp_path / "split.txt", "--instances-per-task", 2,
                     "--answers", f"0={tmp_path / f'{name}_s0.jsonl'}", "--model-name", name,
                     "-o", tmp_path / name / "superni.json")
        tuna_process("generate-answers", "--prompts", tmp_path / "lm.jsonl", "--max-tokens", 8, *model,
                     "--template", template, "-o", tmp_path / f"{name}_lm.jsonl")
        tuna_process("eval-lmentry", "--data", shared_data / "lmentry" / "data", "--limit-per-task", 1,
                     "--answers", tmp_path / f"{name}_lm.jsonl", "--model-name", name,
                     "-o", tmp_path / name / "lmentry.json")
    superni = json.loads((tmp_path / "tuna" / "superni.json").read_text())
    assert superni["shots"]["0"]["instances"] == 4 and superni["shots"]["0"]["missing"] == 0
    assert set(superni["shots"]["0"]["per_task"]) == {"task1344_glue_entailment_classification",
                                                      "task219_rocstories_title_answer_generation"}
    assert set(superni["shots"]["0"]["per_instance"]["task219_rocstories_title_answer_generation"]) == {
        i["id"] for i in json.loads((tasks / "task219_rocstories_title_answer_generation.json").read_text())[
            "Instances"][:2]}
    lm = json.loads((tmp_path / "tuna" / "lmentry.json").read_text())
    assert lm["missing"] == 0 and len(lm["per_task"]) == 25 and 0 <= lm["lmentry_score"] <= 100
    assert sum(len(examples) for examples in lm["per_instance"].values()) == 41  # one verdict per example

    spec = ReportSpec(models=["alpaca", "tuna"], baseline="alpaca", results={
        "alpaca": {b: tmp_path / "alpaca" / f"{b}.json" for b in ("superni", "lmentry")},
        "tuna": {b: tmp_path / "tuna" / f"{b}.json" for b in ("superni", "lmentry", "vicuna")}})
    (tmp_path / "spec.json").write_text(spec.model_dump_json())
    tuna_process("report", "--spec", tmp_path / "spec.json", "-o", tmp_path / "report")
    table = (tmp_path / "report" / "table1.md").read_text()
    assert "| tuna |" in table and "delta_superni_0shot" in table
    assert "delta_superni_0shot_p_bootstrap" in table and "delta_lmentry_p_bootstrap" in table
    assert "delta_vicuna_net_p_sign" in table
    assert (tmp_path / "report" / "vicuna_win_lose_tie.png").stat().st_size > 0
    assert (tmp_path / "report" / "provenance.json").exists()
