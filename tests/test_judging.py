"""The judges' re-ask loop (tuna.judging) and the ranking judge on top of it
(tuna.ranking.contextual.judge_samples), over the real loopback OpenAI-protocol server."""

import json
from collections import Counter

import pytest
from fault_server import FaultServer

from tuna import stages
from tuna.config.settings import Judge
from tuna.errors import TunaError
from tuna.judging import REASK_TEMPERATURE, ask_until_usable, temperature
from tuna.llm import Limits, ProviderSpec, Request, RequestCache, make_provider
from tuna.ranking.contextual import judge_samples, quarantined
from tuna.records import Candidate, Generation, Instruction, Judgement, QuarantinedAnswer, read_jsonl, write_jsonl
from tuna.runner import ProviderRun


def judge(server, tmp_path):
    return make_provider(ProviderSpec(kind="openai", model="judge", base_url=server.url), template="alpaca",
                         cache=RequestCache(tmp_path / "cache.sqlite"), limits=Limits(max_retries=0))


def parse(key, text):
    if text != "GOOD":
        raise ValueError(f"'{text}' is no verdict")
    return key.upper()


def test_unusable_answers_are_reasked_sampled_until_the_retries_run_out(tmp_path):
    asked = Counter()

    def reply(body):  # item "a" answers well on its third try, "b" never, "c" at once
        item = body["prompt"].split("ITEM ")[1][0]
        asked[item] += 1
        return "GOOD" if (item, asked[item]) in {("a", 3), ("c", 1)} else "bad"

    with FaultServer(reply=reply) as server:
        attempts, verdicts = ask_until_usable(
            judge(server, tmp_path), ["a", "b", "c"],
            lambda key, attempt: Request(f"ITEM {key}", temperature=temperature(attempt), seed=attempt,
                                         logprobs=False), parse, retries=2)
    assert verdicts == {"a": "A", "c": "C"}
    assert [(x.raw, x.outcome, x.temperature) for x in attempts["a"]] == [
        ("bad", "unusable", 0.0), ("bad", "unusable", REASK_TEMPERATURE), ("GOOD", "ok", REASK_TEMPERATURE)]
    assert [x.outcome for x in attempts["b"]] == ["unusable"] * 3 and attempts["b"][0].error == "'bad' is no verdict"
    assert len(attempts["c"]) == 1 and asked == Counter(a=3, b=3, c=1)


def test_a_failed_call_is_recorded_and_not_reasked(tmp_path):
    with FaultServer(faults={"ITEM a": ["always:500"]}, reply=lambda body: "GOOD") as server:
        attempts, verdicts = ask_until_usable(
            judge(server, tmp_path), ["a", "b"], lambda key, attempt: Request(f"ITEM {key}", logprobs=False),
            parse, retries=3)
        sent = Counter(e["prompt"].split("ITEM ")[1][0] for e in server.log)
    assert verdicts == {"b": "B"} and sent == Counter(a=1, b=1)
    [failed] = attempts["a"]
    assert failed.outcome == "failed" and failed.raw == "" and failed.error.startswith("HTTP 500")


def test_judge_samples_uses_the_answer_that_parsed_and_quarantines_the_others(tmp_path):
    records = {i: Instruction(id=i, instruction=f"Q{i}: say hi.") for i in ("x", "y")}
    samples = [Generation(id=i, model="m", candidates=[Candidate(text="hi"), Candidate(text="hello")])
               for i in records]

    def reply(body):  # x: a rank that contradicts its scores, then a good one; y: a good one
        if "Qx:" in body["prompt"] and body["temperature"] == 0:
            return "Response 0: 3\nResponse 1: 9\nrank: [0, 1]"
        return "Response 0: 9\nResponse 1: 3\nrank: [0, 1]"

    with FaultServer(reply=reply) as server:
        x, y = judge_samples(judge(server, tmp_path), records, samples, max_tokens=64, retries=1, constrained=False)
    assert x.ok and x.used == 1 and x.rank == [0, 1] and x.scores == {"0": 9.0, "1": 3.0}
    assert x.attempts[0].outcome == "unusable" and "contradicts the scores" in x.attempts[0].error
    assert y.ok and y.used == 0 and len(y.attempts) == 1
    [bad] = quarantined([x, y])
    assert (bad.id, bad.attempt, bad.temperature, bad.raw) == ("x", 0, 0.0, x.attempts[0].raw)


def judge_stage(tmp_path, server, reply_api="completions", **settings):
    """`tuna judge`'s stage over two instructions' samples, on the loopback server."""
    instructions, samples = tmp_path / "instructions.jsonl", tmp_path / "samples.jsonl"
    records = [Instruction(id=i, instruction=f"Q{i}: say hi.") for i in ("x", "y")]
    write_jsonl(instructions, records)
    write_jsonl(samples, [Generation(id=r.id, model="m", candidates=[Candidate(text="hi"), Candidate(text="hello")])
                          for r in records])
    run = ProviderRun(ProviderSpec(kind="openai", model="judge", base_url=server.url, api=reply_api),
                      template="chat" if reply_api == "chat" else "alpaca", cache=str(tmp_path / "cache.sqlite"),
                      limits=Limits(concurrency=4, timeout=10, max_retries=0))
    return stages.judge(instructions, samples, None, Judge(**settings), 0, tmp_path / "judged.jsonl",
                        tmp_path / "quarantine.jsonl", run)


def test_a_judge_that_ranks_nothing_fails_after_keeping_every_attempt(tmp_path):

    with FaultServer(reply=lambda body: "I like them all.") as server, \
            pytest.raises(TunaError) as failure:
        judge_stage(tmp_path, server, retries=1)
    assert str(failure.value) == (
        "judge: 2 of 2 instructions without a usable verdict (max_unranked 0.02); most common: no 'rank: [...]' "
        f"line and not every response has a score (2x); every attempt is in {tmp_path / 'judged.jsonl'} and "
        f"{tmp_path / 'quarantine.jsonl'}")
    assert [len(j.attempts) for j in read_jsonl(tmp_path / "judged.jsonl", Judgement)] == [2, 2]
    assert len(read_jsonl(tmp_path / "quarantine.jsonl", QuarantinedAnswer)) == 4


def test_unranked_instructions_within_the_budget_pass(tmp_path):
    def reply(body):  # x never ranks, y does
        return "no idea" if "Qx:" in json.dumps(body) else "Response 0: 9\nResponse 1: 3\nrank: [0, 1]"

    with FaultServer(reply=reply) as server:
        line = judge_stage(tmp_path, server, retries=0, max_unranked=0.5)
    assert "1 of 2 instructions ranked, 1 without a usable answer" in line


def test_the_judge_gets_the_released_system_prompt_as_a_chat_system_turn(tmp_path):
    (tmp_path / "none").mkdir()
    with FaultServer(reply=lambda body: "Response 0: 9\nResponse 1: 3\nrank: [0, 1]") as server:
        judge_stage(tmp_path, server, reply_api="chat")
        judge_stage(tmp_path / "none", server, reply_api="chat", system_prompt="")
        sent = [json.loads(entry["prompt"]) for entry in server.log]
    with_system, without = sent[0], sent[-1]
    assert with_system[0] == {"role": "system", "content": "You are a professional and experienced data annotator."}
    assert with_system[1]["role"] == "user" and with_system[1]["content"].startswith("Below is an instruction")
    assert [m["role"] for m in without] == ["user"]
