"""`tuna teacher` / `tuna score` end to end: kill -9 and resume, and the Snakemake rerun rule for beta."""

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from fault_server import FaultServer
from local_servers import journaled_answers
from tuna_cli import tuna_process
from workflow_run import snakemake as run_snakemake
from workflow_run import write_config

ROOT = Path(__file__).resolve().parent.parent


def write_instructions(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"id{i}", "instruction": f"Task {i}: say hello.", "input": "",
                                        "output": "Hello."}) + "\n" for i in range(count)))
    return path


def teacher_cmd(instructions, out, url, cache):
    return ["tuna", "teacher", str(instructions), "--n", "2", "--max-tokens", "8", "--seed", "1",
            "--provider", "openai", "--model", "fake", "--base-url", url, "--template", "alpaca",
            "--concurrency", "1", "--cache", str(cache), "-o", str(out)]


def test_kill_9_midway_then_rerun_equals_an_uninterrupted_run(tmp_path):
    instructions = write_instructions(tmp_path / "instructions.jsonl", 6)
    env = {**os.environ, "TQDM_DISABLE": "1"}
    with FaultServer(latency=0.05) as server:
        reference = tmp_path / "reference.jsonl"
        subprocess.run(teacher_cmd(instructions, reference, server.url, tmp_path / "ref.sqlite"), check=True, env=env)
        server.log.clear()
        server.answered = 0
        server.hold_after = 5  # answer 5 calls, then hang the 6th until the kill
        out, cache = tmp_path / "out.jsonl", tmp_path / "cache.sqlite"
        job = subprocess.Popen(teacher_cmd(instructions, out, server.url, cache), env=env)
        deadline = time.monotonic() + 60
        while journaled_answers(cache) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert journaled_answers(cache) == 5
        job.send_signal(signal.SIGKILL)
        job.wait()
        assert not out.exists()
        server.hold_after = None
        server.released.set()
        done = subprocess.run(teacher_cmd(instructions, out, server.url, cache), check=True, env=env,
                              capture_output=True, text=True)
    assert out.read_text() == reference.read_text()
    assert "7 calls made, 5 from cache" in done.stdout
    answered = Counter((e["prompt"], e["seed"]) for e in server.answers())
    assert len(answered) == 12 and set(answered.values()) == {1}  # each call answered (paid) once
    cost = json.loads((tmp_path / "out.cost.json").read_text())
    assert cost["total"]["calls"] == 12 and cost["this_run"]["calls"] == 7 and cost["this_run"]["cached"] == 5


def test_teacher_records_failures_and_score_ranks(tmp_path):
    instructions = write_instructions(tmp_path / "instructions.jsonl", 3)
    env = {**os.environ, "TQDM_DISABLE": "1"}
    with FaultServer(faults={"Task 1:": ["always:500"]}) as server:
        cmd = teacher_cmd(instructions, tmp_path / "t.jsonl", server.url, tmp_path / "c.sqlite")
        subprocess.run(cmd + ["--max-retries", "1", "--price-prompt", "1", "--price-completion", "2",
                              "--max-failed", "0.5"], check=True, env=env)
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["id0", "id1", "id2"]
    assert [c["finish_reason"] for c in rows[1]["candidates"]] == ["error", "error"]
    cost = json.loads((tmp_path / "t.cost.json").read_text())
    tokens = cost["total"]["prompt_tokens"] * 1 + cost["total"]["completion_tokens"] * 2
    assert cost["total"]["usd"] == pytest.approx(tokens / 1000) and cost["this_run"]["failed"] == 2
    tuna_process("score", instructions, tmp_path / "t.jsonl", "--beta", "0", "-o", tmp_path / "ranked.jsonl")
    ranked = [json.loads(line) for line in (tmp_path / "ranked.jsonl").read_text().splitlines()]
    first = ranked[0]["candidates"]
    assert first[0]["score"] >= first[1]["score"] and ranked[0]["output"] == "Hello."
    assert ranked[1]["candidates"] == []  # both of its responses failed: nothing of it is ranked


def jobs_run(stdout: str) -> Counter:
    """Rule -> count from Snakemake's 'Job stats' table."""
    lines = stdout.split("Job stats:")[1].splitlines()[3:]
    counts = Counter()
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


@pytest.mark.slow
def test_changing_beta_reruns_scoring_never_the_teacher(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["data"].update(limit=4, held_out=0)  # 4 instructions, none held out
    config["teacher"].update(n=2, max_tokens=16, provider={**config["teacher"]["provider"], "n_ctx": 1024})
    write_config(tmp_path, config)

    def snakemake(*args):
        done = run_snakemake(tmp_path, "results/prob_rank/ranked.jsonl", *args)
        return done.stdout + done.stderr

    first = jobs_run(snakemake())
    assert first["teacher"] == 2 and first["score"] == 1
    ranked = [json.loads(line) for line in (tmp_path / "results/prob_rank/ranked.jsonl").read_text().splitlines()]
    assert len(ranked) == 4 and all(len(r["candidates"]) == 2 for r in ranked)
    teacher_mtime = (tmp_path / "results/prob_rank/teacher/0.jsonl").stat().st_mtime
    assert "Nothing to be done" in snakemake()
    config["scoring"] = {"beta": 0.0}
    write_config(tmp_path, config)
    second = jobs_run(snakemake())
    assert second == Counter({"score": 1})
    assert (tmp_path / "results/prob_rank/teacher/0.jsonl").stat().st_mtime == teacher_mtime
    for row in (json.loads(line) for line in (tmp_path / "results/prob_rank/ranked.jsonl").read_text().splitlines()):
        scores = [c["score"] for c in row["candidates"] if c.get("score") is not None]
        assert scores == sorted(scores, reverse=True)
