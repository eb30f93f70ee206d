"""Vicuna QA: questions and judge prompts from the real upstream files, verdict parsing on
judge prose, both-order judging, re-asking, and the win/lose/tie summary."""

from __future__ import annotations

import pytest
from fault_server import FaultServer

from tuna.errors import TunaError
from tuna.evaluate import vicuna
from tuna.llm import Limits, ProviderSpec, RequestCache, make_provider
from tuna.records import Attempt

DEMO = vicuna.DATA


@pytest.fixture(scope="module")
def upstream(shared_data):
    return shared_data / "vicuna_qa"


def test_upstream_questions_load(upstream):
    questions = vicuna.load_questions(upstream / "fastchat_eval_table" / "question.jsonl")
    assert len(questions) == 80 and questions[0].id == "1"
    assert {q.category for q in questions} >= {"generic", "coding", "math", "fermi", "writing"}
    mt_style = vicuna.load_questions(upstream / "llm_judge" / "vicuna_bench" / "question.jsonl")
    assert [q.text for q in mt_style] == [q.text for q in questions]


def test_demo_questions_cover_categories():
    questions = vicuna.load_questions(DEMO / "vicuna_demo_questions.jsonl")
    assert 8 <= len(questions) <= 12 and len({q.category for q in questions}) >= 8
    assert vicuna.prompts(questions)[0].instruction == questions[0].text


@pytest.mark.parametrize("name,style", [("fastchat_eval_table/prompt.jsonl", "review"),
                                        ("llm_judge/judge_prompts.jsonl", "pairwise")])
def test_upstream_judge_prompts_build_messages(upstream, name, style):
    prompts = vicuna.load_judge_prompts(upstream / name, style)
    system, user = vicuna.judge_messages(prompts["general"], "Why?", "First answer.", "Second answer.")
    assert system["role"] == "system" and "assistant" in system["content"].lower()
    assert user["content"].index("First answer.") < user["content"].index("Second answer.")
    assert "Why?" in user["content"] and "{" not in user["content"]
    if style == "review":
        assert set(prompts) == {"general", "coding", "math"}
        assert "two values" in user["content"]  # the upstream instruction is filled in
    else:
        assert set(prompts) == {"general"}  # reference-based math and multi-turn prompts are skipped
        assert "[[A]]" in system["content"]


@pytest.mark.parametrize("name,style", [("vicuna_demo_review_prompts.jsonl", "review"),
                                        ("vicuna_demo_pairwise_prompts.jsonl", "pairwise")])
def test_demo_judge_prompts_have_the_upstream_shape(name, style):
    prompts = vicuna.load_judge_prompts(DEMO / name, style)
    user = vicuna.judge_messages(prompts["general"], "Q", "a1", "a2")[1]["content"]
    assert "a1" in user and "a2" in user


def test_wrong_prompt_file_for_style_is_a_clear_error(upstream):
    with pytest.raises(TunaError, match="no 'general' pairwise judge prompt"):
        vicuna.load_judge_prompts(upstream / "fastchat_eval_table" / "prompt.jsonl", "pairwise")


@pytest.mark.parametrize("text,expected", [
    ("8 9\nAssistant 2 gave more detail.", (8.0, 9.0)),
    ("7, 6\n\nBoth are fine.", (7.0, 6.0)),
    ("(3, 8)\nAssistant 1 made an arithmetic error.", (3.0, 8.0)),
    ("Scores: 8/10 and 6.5/10\nExplanation follows.", (8.0, 6.5)),
    ("Assistant 1: 9\nAssistant 2: 4\nThe first answer is complete.", (9.0, 4.0)),
    ("I would give Assistant 1 a score of 7 and Assistant 2 a score of 8.", (7.0, 8.0)),
    ("Both answers are good but neither is perfect.", None),
])
def test_parse_review(text, expected):
    assert vicuna.parse_review(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("Assistant A is more detailed and accurate.\n\n[[A]]", "A"),
    ("Final verdict: [[B]]", "B"),
    ("Both are equally helpful. [[C]]", "C"),
    ("At first [[A]] seemed better, but on reflection: [[B]]", "B"),
    ("My verdict: [ B ]", "B"),
    ("Verdict: Assistant A", "A"),
    ("Both responses have merit.", None),
])
def test_parse_pairwise(text, expected):
    assert vicuna.parse_pairwise(text) == expected


def judge_pairs(tmp_path, reply, question, style, retries, orders=vicuna.ORDERS):
    """The orders of one question judged over HTTP by a judge whose answers `reply` scripts."""
    prompts = vicuna.load_judge_prompts(vicuna.DEMO_JUDGE_PROMPTS[style], style)
    with FaultServer(reply=reply) as server:
        judge = make_provider(ProviderSpec(kind="openai", model="judge", base_url=server.url), template="alpaca",
                              cache=RequestCache(tmp_path / "cache.sqlite"),
                              limits=Limits(max_retries=0))
        pair = vicuna.judge_pairs(judge, prompts, [question], {question.id: "MODEL"}, {question.id: "BASE"}, style,
                                  retries, 64, False, orders)
        return pair, server.log


def model_first(body) -> bool:
    return body["prompt"].index("MODEL") < body["prompt"].index("BASE")


def test_both_orders_agreeing_give_a_win(tmp_path):
    # model first -> A is the model; baseline first -> B is the model.
    pair, log = judge_pairs(tmp_path, lambda body: "[[A]]" if model_first(body) else "[[B]]",
                            vicuna.Question("1", "Q?", "generic"), "pairwise", retries=0)
    assert [j.order for j in pair] == list(vicuna.ORDERS)
    assert [j.verdict for j in pair] == ["model", "model"] and len(log) == 2
    assert vicuna.combine([j.verdict for j in pair]) == "model"


def test_verdict_flipping_with_order_is_a_tie(tmp_path):
    pair, _ = judge_pairs(tmp_path, lambda body: "9 5\nFirst is better.",  # always prefers position 1
                          vicuna.Question("1", "Q?", "generic"), "review", retries=0)
    assert [j.verdict for j in pair] == ["model", "baseline"]
    assert vicuna.combine([j.verdict for j in pair]) == "tie"
    assert pair[0].scores == [9.0, 5.0]


def test_one_order_puts_the_model_first_and_is_recorded(tmp_path):
    pair, log = judge_pairs(tmp_path, lambda body: "9 5\nFirst is better.", vicuna.Question("1", "Q?", "generic"),
                            "review", retries=0, orders=vicuna.judged_orders("model_first"))
    assert len(log) == 1 and model_first({"prompt": log[0]["prompt"]})
    assert [(j.order, j.verdict) for j in pair] == [("model_first", "model")]
    summary = vicuna.summarize(pair)
    assert (summary["win"], summary["orders"], summary["position_consistency"]) == (1, ["model_first"], None)


def test_position_consistency_counts_questions_whose_orders_agree():
    def pair(qid, first, second):
        return [vicuna.PairJudgement(id=qid, category="generic", order=o, judge="j", style="pairwise",
                                     attempts=[Attempt(raw="x", outcome="ok")], verdict=v)
                for o, v in zip(vicuna.ORDERS, (first, second), strict=True)]

    judgements = (pair("1", "model", "model") + pair("2", "model", "baseline") + pair("3", "tie", "tie")
                  + pair("4", "model", "tie") + pair("5", "model", None))
    summary = vicuna.summarize(judgements)
    assert summary["position_consistency"] == {"agree": 2, "questions": 4, "rate": 50.0}
    assert summary["orders"] == list(vicuna.ORDERS)


def test_unparseable_answer_is_reasked_then_counted(tmp_path):
    def reply(body):
        if model_first(body):
            return "Hmm, hard to say." if body["temperature"] == 0 else "8 3\nok"
        return "no idea"

    pair, log = judge_pairs(tmp_path, reply, vicuna.Question("7", "Q?", "coding"), "review", retries=1)
    assert "write code" in log[0]["prompt"]  # the coding prompt for a coding question
    assert pair[0].verdict == "model" and pair[0].used == 1
    assert [(a.raw, a.outcome, a.temperature) for a in pair[0].attempts] == [
        ("Hmm, hard to say.", "unusable", 0.0), ("8 3\nok", "ok", 0.7)]
    assert pair[1].verdict is None and pair[1].used is None
    assert [a.outcome for a in pair[1].attempts] == ["unusable", "unusable"]
    summary = vicuna.summarize(pair)
    assert summary["unparsed"] == 1 and summary["win"] == summary["lose"] == summary["tie"] == 0
    assert summary["attempts"] == 4 and summary["failed_calls"] == 0


def test_summary_rates_and_categories():
    def pair(qid, category, first, second):
        return [vicuna.PairJudgement(id=qid, category=category, order=o, judge="j", style="pairwise",
                                     attempts=[Attempt(raw="x", outcome="ok")],
                                     verdict=v) for o, v in zip(vicuna.ORDERS, (first, second), strict=True)]

    judgements = (pair("1", "generic", "model", "model") + pair("2", "generic", "baseline", "baseline")
                  + pair("3", "math", "model", "tie") + pair("4", "math", "model", "model"))
    summary = vicuna.summarize(judgements)
    assert (summary["win"], summary["lose"], summary["tie"], summary["questions"]) == (2, 1, 1, 4)
    assert summary["win_rate"] == 50.0 and summary["lose_rate"] == 25.0 and summary["tie_rate"] == 25.0
    assert summary["per_category"]["math"]["win"] == 1 and summary["per_category"]["math"]["tie"] == 1
    assert summary["per_category"]["generic"]["lose_rate"] == 50.0


def test_bad_question_line_names_file_and_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question_id": 1, "text": "ok"}\n{"question_id": 2}\n')
    with pytest.raises(TunaError, match=r"q.jsonl:2: a question needs"):
        vicuna.load_questions(path)


@pytest.mark.parametrize("style,text,expected", [("pairwise", '{"verdict": "B"}', "B"),
                                                 ("review", '{"scores": [7, 9]}', (7.0, 9.0))])
def test_constrained_json_answers_parse(style, text, expected):
    assert "verdict" in vicuna.VERDICT_SCHEMAS["pairwise"]["properties"]
    parse = vicuna.parse_pairwise if style == "pairwise" else vicuna.parse_review
    assert parse(text) == expected
