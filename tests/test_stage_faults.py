"""Every generation stage under the real loopback fault server: one failure budget, reruns that
re-ask only what failed, every judge attempt kept, failed answers never trained on, and
provenance naming the model that answered."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from fault_server import FaultServer
from tiny_llama import tiny_tokenizer
from tuna_cli import tuna

from tuna.cost import cost_path
from tuna.evaluate.vicuna import PairJudgement
from tuna.records import Generation, Judgement, QuarantinedAnswer, read_jsonl
from tuna.train.data import load_examples
from tuna.train.loss import TunaLoss

VERDICT = "Response 0: 9\nResponse 1: 4\nrank: [0, 1]"


def healthy_judge(body) -> str | None:
    """Valid verdicts for both judges' prompts; plain deterministic answers for everything else."""
    prompt = body["prompt"]
    if "rate Response 0/1" in prompt:
        return VERDICT
    if "[[A]]" in prompt:
        return "[[A]]" if prompt.index("MODEL") < prompt.index("BASE") else "[[B]]"  # the model wins
    return None


def inputs(work: Path) -> dict[str, Path]:
    """Four instructions (also as Vicuna questions), two samples each, two sets of answers."""
    tasks = [f"Task {i}: say hello." for i in range(4)]
    files = {name: work / f"{name}.jsonl" for name in ("instructions", "questions", "samples", "answers", "baseline")}
    files["instructions"].write_text("".join(json.dumps({"id": f"id{i}", "instruction": t, "output": "Hello."}) + "\n"
                                             for i, t in enumerate(tasks)))
    files["questions"].write_text("".join(json.dumps({"question_id": i, "text": t, "category": "generic"}) + "\n"
                                          for i, t in enumerate(tasks)))

    def generations(path, ids, texts):
        path.write_text("".join(Generation(id=i, model="m", candidates=[{"text": t} for t in texts])
                                .model_dump_json() + "\n" for i in ids))

    generations(files["samples"], [f"id{i}" for i in range(4)], ["hello there", "hi"])
    generations(files["answers"], [str(i) for i in range(4)], ["MODEL hello"])
    generations(files["baseline"], [str(i) for i in range(4)], ["BASE hi"])
    return files


def provider(url: str, cache: Path, *extra) -> list:
    return ["--provider", "openai", "--model", "fake", "--base-url", url, "--template", "alpaca", "--max-retries", 0,
            "--concurrency", 2, "--cache", cache, *extra]


# stage -> (command line, its outputs)
def command(stage: str, files: dict, url: str, *extra) -> tuple[list, list[Path]]:
    work = files["instructions"].parent
    p = provider(url, work / "cache.sqlite", *extra)
    out = work / f"{stage}.jsonl"
    if stage == "teacher":
        return ["teacher", files["instructions"], "--n", 2, "--max-tokens", 8, *p, "-o", out], [out]
    if stage == "sample":
        return (["sample", "--instructions", files["instructions"], "--n", 2, "--max-tokens", 8, "--max-trials", 1,
                 *p, "-o", out], [out])
    if stage == "judge":
        quarantine = work / "quarantine.jsonl"
        return (["judge", "--instructions", files["instructions"], "--samples", files["samples"], "--retries", 2,
                 "--max-tokens", 64, *p, "-o", out, "--quarantine", quarantine], [out, quarantine])
    if stage == "generate-answers":
        return ["generate-answers", "--prompts", files["instructions"], "--max-tokens", 8, *p, "-o", out], [out]
    result = work / "vicuna.json"
    return (["judge-vicuna", "--questions", files["questions"], "--answers", files["answers"],
             "--baseline-answers", files["baseline"], "--model-name", "m", "--baseline-name", "b",
             "--style", "pairwise", "--retries", 1, *p, "-o", result, "--judgements", out], [result, out])


STAGES = ["teacher", "sample", "judge", "generate-answers", "judge-vicuna"]


@pytest.mark.parametrize("stage", STAGES)
def test_over_budget_the_stage_fails_in_one_line_and_a_rerun_asks_only_the_failed(tmp_path, stage):
    files = inputs(tmp_path)
    with FaultServer(faults={"Task": ["always:500"]}, reply=healthy_judge) as server:  # every call fails
        args, outputs = command(stage, files, server.url)
        everything = tuna(*args, code=1)
        assert not any(p.exists() for p in outputs)
        [line] = everything.stderr.splitlines()
        assert f"{len(server.log)} of {len(server.log)} calls failed (max_failed 0.02)" in line
        assert "most common: HTTP 500 from http://127.0.0.1:" in line and "injected 500" in line

        server.faults, server.log = {"Task 1:": ["always:500"]}, []  # a quarter fails
        some = tuna(*args, code=1)
        failed = [e for e in server.log if e["outcome"] == "500"]
        answered = len(server.answers())
        assert f"{len(failed)} of {len(failed) + answered} calls failed" in some.stderr
        assert not any(p.exists() for p in outputs)

        server.faults, server.log = {}, []  # healthy again
        tuna(*args)
        resent = sorted((e["prompt"], e["seed"]) for e in server.log)
    assert resent == sorted((e["prompt"], e["seed"]) for e in failed)  # only the failed calls, each once
    assert all(p.exists() for p in outputs)
    cost = json.loads(cost_path(outputs[0]).read_text())
    assert cost["this_run"]["calls"] == len(failed) and cost["this_run"]["cached"] == answered

    for path in outputs:  # (d) every output names the endpoint, the model and what the server said it ran
        stamp = json.loads(path.with_name(path.name + ".provenance.json").read_text())
        assert stamp["model"] == {"kind": "openai", "model": "fake", "template": "alpaca", "base_url": server.url,
                                  "api": "completions", "served_model": ["fake"],
                                  "system_fingerprint": ["fp-fault-server"]}
        assert stamp["calls"]["failed"] == 0 and stamp["calls"]["max_failed"] == 0.02


def scripted_judge():
    """Answers badly twice then well about Task 0, always badly about Task 1, well about the rest."""
    seen = Counter()

    def reply(body):
        prompt = body["prompt"]
        seen[prompt] += 1
        good = healthy_judge(body)
        if good is None or "Task 1:" in prompt or ("Task 0:" in prompt and seen[prompt] <= 2):
            return "I cannot decide." if good else None
        return good

    return reply


def test_the_ranking_judge_keeps_every_attempt_and_quarantines_every_unusable_answer(tmp_path):
    files = inputs(tmp_path)
    with FaultServer(reply=scripted_judge()) as server:
        args, (judged, quarantine) = command("judge", files, server.url)
        over = tuna(*args, code=1)  # 1 of the 4 never ranks: over the API judge's default budget (0.02)
        assert over.output.count("\n") == 1 and over.output.startswith(
            "Error: judge: 1 of 4 instructions without a usable verdict (max_unranked 0.02)")
        assert len(read_jsonl(quarantine, QuarantinedAnswer)) == 5  # every attempt written first
        summary = tuna(*args, "--max-unranked", 0.25).output
    judgements = {j.id: j for j in read_jsonl(judged, Judgement)}
    first = judgements["id0"]
    assert first.ok and first.used == 2 and first.rank == [0, 1]
    assert [(a.outcome, a.temperature) for a in first.attempts] == [("unusable", 0.0), ("unusable", 0.7), ("ok", 0.7)]
    assert [a.raw for a in first.attempts] == ["I cannot decide.", "I cannot decide.", VERDICT]
    never = judgements["id1"]
    assert not never.ok and never.used is None and [a.outcome for a in never.attempts] == ["unusable"] * 3
    assert [len(j.attempts) for j in judgements.values()] == [3, 3, 1, 1]
    unusable = read_jsonl(quarantine, QuarantinedAnswer)
    assert [(q.id, q.attempt) for q in unusable] == [("id0", 0), ("id0", 1), ("id1", 0), ("id1", 1), ("id1", 2)]
    assert "3 of 4 instructions ranked, 1 without a usable answer" in summary
    assert "5 unusable answers quarantined" in summary


def test_the_vicuna_judge_keeps_every_attempt(tmp_path):
    files = inputs(tmp_path)
    with FaultServer(reply=scripted_judge()) as server:
        args, (result, judgements) = command("judge-vicuna", files, server.url)
        args[args.index("--retries") + 1] = 2
        tuna(*args, "--max-unranked", 0.25)  # question 1 never gets a verdict
    pairs = read_jsonl(judgements, PairJudgement)
    by_question = Counter((p.id, tuple(a.outcome for a in p.attempts), p.used) for p in pairs)
    assert by_question == Counter({("0", ("unusable", "unusable", "ok"), 2): 2,
                                   ("1", ("unusable",) * 3, None): 2, ("2", ("ok",), 0): 2, ("3", ("ok",), 0): 2})
    summary = json.loads(result.read_text())
    assert summary["unparsed"] == 1 and summary["win"] == 3 and summary["attempts"] == 2 * (3 + 3 + 1 + 1)


def test_under_budget_a_failed_answer_is_kept_marked_and_never_trained_on(tmp_path):
    files = inputs(tmp_path)
    tokenizer = tiny_tokenizer()
    with FaultServer(faults={"Task 1:": ["500"]}, reply=healthy_judge) as server:  # 1 of 8 teacher calls
        args, [teacher] = command("teacher", files, server.url, "--max-failed", 0.2)
        assert "(1 failed, 0 empty" in tuna(*args).output
        ranked = tmp_path / "ranked.jsonl"
        tuna("score", files["instructions"], teacher, "-o", ranked)
        # The self samples of Task 1 hold a failed draw; the judge ranks both, ctx-rank drops it.
        args, [samples] = command("sample", files, server.url, "--max-failed", 0.2)
        server.faults["Task 1:"] = ["500"]
        tuna(*args)
        args, (judged, _) = command("judge", {**files, "samples": samples}, server.url)
        tuna(*args)
    marked = [c for g in read_jsonl(teacher, Generation) for c in g.candidates if c.finish_reason == "error"]
    assert len(marked) == 1 and marked[0].error.startswith("HTTP 500")
    examples, report = load_examples(ranked, tokenizer, "chat", TunaLoss(), max_length=256)
    assert report["read"] == 4 and report["kept"] == 3 and report["fewer than 2 candidates"] == 1
    assert sorted(e.id for e in examples) == ["id0", "id2", "id3"]

    ctx = tmp_path / "ctx.jsonl"
    assert "left out: 1 failed or empty samples" in tuna("ctx-rank", "--instructions", files["instructions"],
                                                        "--samples", samples, "--judged", judged, "-o", ctx).output
    stamp = json.loads(ctx.with_name(ctx.name + ".provenance.json").read_text())
    assert stamp["params"]["excluded"] == {"failed or empty samples": 1}
    examples, report = load_examples(ctx, tokenizer, "chat", TunaLoss(), max_length=256)
    assert report["kept"] == 3 and report["fewer than 2 candidates"] == 1
    assert all(len(e.candidates) == 2 for e in examples)
