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


# The authors' released gpt-eval.py (microsoft/LMOps tuna/src) builds the Table 9 prompt as
# the Alpaca training prompt (ending "### Response:"), a blank line, the responses and the
# instructions below, typos included; this is that text, written out.
RELEASED_STEPS = (
    "We would like you to rate Response 0/1/2/3 in reply to the given instruction displayed above.\n"
    "First, identify if the instruction requires open-ended or close-ended responses.Second, you need to generate "
    "one high quality '###Response 4' in answer to the instruction. It needs to have the same format as other "
    "responses and will be used as a reference later.\n"
    "Third, identify if there are duplicate responses and keep only one of the duplicate responses for the following "
    "steps.Fourth, compare Response 4 with Response 0/1/2/3/4 and assign each response an overall score on a scale "
    "of 0 to 15 where a higher score indicates better overall quality. For an open-ended instruction, please rate "
    "based on the relevance (score 0 to 5), level of details/justification: (score 0 to 5) and accuracy (score 0 to "
    "5) of each response; for a close-ended instruction, please rate based on the accuracy (score 0 to 5), level of "
    "details/justification (score 0 to 5) and clarity (score 0 to 5) of each response. The ratings should have the "
    "format: 'Response k: [sum of the 3 individual scores you give to response k]'.\n"
    "Last, rank the responses in decreasing order of their overall scores. The ranking should have the format: "
    "'rank: [i, j ,k, l, m]'. If there are duplicate responses, keep only one of them in the rank, that is, the "
    "ranking may become: 'rank: [i, j, k, l]', 'rank: [i, j, k]' 'rank: [i, j]' or even 'rank: [i]'.\n"
)


def test_prompt_is_the_released_table_9_byte_for_byte():
    assert judge_prompt("Name a color.", "", ["red", "blue", "red", "green"]) == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."
        "\n\n### Instruction:\nName a color.\n\n### Response:\n\n"
        "###Response 0:\nred\n\n###Response 1:\nblue\n\n###Response 2:\nred\n\n###Response 3:\ngreen\n\n\n"
        + RELEASED_STEPS)
    assert judge_prompt("Translate.", "Bonjour", ["Hello", "Hi", "Good day", "Hey"]) == (
        "Below is an instruction that describes a task, paired with an input that provides further context. Write a "
        "response that appropriately completes the request.\n\n### Instruction:\nTranslate.\n\n### Input:\nBonjour"
        "\n\n### Response:\n\n"
        "###Response 0:\nHello\n\n###Response 1:\nHi\n\n###Response 2:\nGood day\n\n###Response 3:\nHey\n\n\n"
        + RELEASED_STEPS)


def test_prompt_for_other_counts_changes_only_the_numbers_and_examples():
    prompt = judge_prompt("Name a color.", "", ["red", "blue", "green"])
    assert "rate Response 0/1/2 in reply" in prompt and "'###Response 3' in answer" in prompt
    assert "compare Response 3 with Response 0/1/2/3 and" in prompt
    assert prompt.endswith("format: 'rank: [i, j ,k, l]'. If there are duplicate responses, keep only one of them "
                           "in the rank, that is, the ranking may become: 'rank: [i, j, k]' 'rank: [i, j]' or even "
                           "'rank: [i]'.\n")


def test_schema_covers_candidates_and_reference():
    schema = verdict_schema(4)
    assert schema["properties"]["scores"]["required"] == [f"Response {k}" for k in range(5)]
    assert schema["properties"]["rank"]["items"]["enum"] == [0, 1, 2, 3, 4]
