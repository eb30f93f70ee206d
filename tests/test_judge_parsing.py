"""Judge answers as real judges write them: prose, markdown, odd brackets, ties, junk."""

import pytest

from tuna.ranking.judge import VerdictError, judge_prompt, parse_verdict, verdict_schema

GPT4_STYLE = """The instruction is close-ended: it asks for a specific fact.

###Response 4:
The capital of France is Paris.

Duplicates: Response 1 and Response 3 are identical, so I keep only Response 1.

Response 0: [4 + 3 + 4 = 11]
Response 1: [5 + 4 + 5 = 14]
Response 2: [1 + 1 + 2 = 4]
Response 4: [5 + 5 + 5 = 15]

rank: [4, 1, 0, 2]
"""

MARKDOWN = """**Type:** open-ended

### Response 4:
Here are three tips: sleep, water, exercise. Each of them matters for 3 reasons.

**Scores**
- **Response 0:** 9/15
- **Response 1:** 12/15
- **Response 2:** 12/15
- **Response 3:** 3/15
- **Response 4:** 15/15

**Ranking:** [Response 4, Response 1, Response 2, Response 0, Response 3]
"""

NO_BRACKETS = """Open-ended.
Response 0: 7
Response 1: 13
Response 2: 10
Response 3: 2
Response 4: 14
Rank: 4 > 1 > 2 > 0 > 3"""

SCORES_ONLY = """Response 0: 3
Response 1: 12
Response 2: 8
Response 3: 10
Response 4: 15"""

JSON_ANSWER = ('{"instruction_type": "close-ended", "Response 4": "Paris.", '
               '"scores": {"Response 0": 10, "Response 1": 15, "Response 2": 5, "Response 3": 10, "Response 4": 15}, '
               '"rank": [1, 4, 0, 3, 2]}')


@pytest.mark.parametrize("text, rank, scores", [
    (GPT4_STYLE, [1, 0, 2], {0: 11, 1: 14, 2: 4}),
    (MARKDOWN, [1, 2, 0, 3], {0: 9, 1: 12, 2: 12, 3: 3}),
    (NO_BRACKETS, [1, 2, 0, 3], {0: 7, 1: 13, 2: 10, 3: 2}),
    (SCORES_ONLY, [1, 3, 2, 0], {0: 3, 1: 12, 2: 8, 3: 10}),
    (JSON_ANSWER, [1, 0, 3, 2], {0: 10, 1: 15, 2: 5, 3: 10}),
    ("blah\nrank: [2, 0]\nthe rest were duplicates", [2, 0], {}),
])
def test_realistic_answers(text, rank, scores):
    verdict = parse_verdict(text, 4)
    assert verdict.rank == rank
    assert verdict.scores == scores


@pytest.mark.parametrize("text, reason", [
    ("I cannot decide which response is better.", "no 'rank"),
    ("rank: [4]", "names no candidate"),
    ("rank: [1, 1, 0, 2]", "repeats"),
    ("rank: [0, 7, 1]", "outside 0..3"),
    ("Response 0: 3\nResponse 1: 12\nrank: [0, 1]", "contradicts the scores"),
    ("Response 0: 3\nResponse 1: 12", "not every response has a score"),
])
def test_unusable_answers_say_why(text, reason):
    with pytest.raises(VerdictError, match=reason):
        parse_verdict(text, 4)


def test_reference_response_text_is_not_read_as_a_score():
    text = "###Response 4: There are 3 primary colors: red, yellow and blue, the painter's primaries.\n" \
           "Response 0: 10\nResponse 1: 12\nResponse 2: 8\nResponse 3: 1\nrank: [4, 1, 0, 2, 3]"
    assert parse_verdict(text, 4).scores == {0: 10, 1: 12, 2: 8, 3: 1}


def test_prompt_is_table_9_for_four_responses():
    prompt = judge_prompt("Name a color.", "", ["red", "blue", "red", "green"])
    assert prompt.startswith("Below is an instruction that describes a task.")
    assert "### Instruction:\nName a color.\n\n###Response 0:\nred\n\n###Response 1:\nblue\n" in prompt
    assert "rate Response 0/1/2/3 in reply to the given instruction" in prompt
    assert "generate one high quality '###Response 4'" in prompt
    assert "keep only one of the duplicate responses" in prompt
    assert "compare Response 4 with Response 0/1/2/3/4" in prompt
    assert "on a scale of 0 to 15" in prompt
    assert "'rank: [i, j, k, l, m]'" in prompt and "or even 'rank: [i]'." in prompt


def test_schema_covers_candidates_and_reference():
    schema = verdict_schema(4)
    assert schema["properties"]["scores"]["required"] == [f"Response {k}" for k in range(5)]
    assert schema["properties"]["rank"]["items"]["enum"] == [0, 1, 2, 3, 4]
