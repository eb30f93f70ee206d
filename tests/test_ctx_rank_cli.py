"""Contextual ranking on the real SmolLM2 GGUF in llama.cpp: sample, judge, gather."""

import json

import pytest
from tuna_cli import tuna_process

from tuna.datasets import read_ids
from tuna.provenance import sha256_file
from tuna.records import Generation, Instruction, Judgement, QuarantinedAnswer, Ranking, read_jsonl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ranked(tmp_path_factory, smollm2_gguf):
    work = tmp_path_factory.mktemp("ctx")
    instructions, held_out = work / "instructions.jsonl", work / "held_out.jsonl"
    tuna_process("prepare-data", "--limit", 3, "--held-out", 1, "--held-out-out", held_out, "-o", instructions)
    provider = ["--provider", "llamacpp", "--model", smollm2_gguf, "--cache", work / "cache.sqlite"]
    first = ["--first", 2, "--held-out", held_out]  # the first 2 training instructions and the held-out one
    tuna_process("sample", "--instructions", instructions, *first, "--n", 3, "--max-tokens", 24, "--tau", 0.5,
                 *provider, "-o", work / "samples.jsonl")
    judged = tuna_process("judge", "--instructions", instructions, "--samples", work / "samples.jsonl", *first,
                          "--constrained", "--max-tokens", 200, "--retries", 1, *provider,
                          "-o", work / "judged.jsonl", "--quarantine", work / "quarantine.jsonl")
    tuna_process("ctx-rank", "--instructions", instructions, "--samples", work / "samples.jsonl",
                 "--judged", work / "judged.jsonl", "-o", work / "ranked.jsonl")
    return work, provider, judged.stdout


def test_the_first_instructions_and_the_held_out_ones_are_ranked(ranked):
    work, _, _ = ranked
    ids = [r.id for r in read_jsonl(work / "instructions.jsonl", Instruction)]
    assert len(ids) == 4 and read_ids(work / "held_out.jsonl") == {ids[3]}
    expected = [ids[0], ids[1], ids[3]]
    assert [g.id for g in read_jsonl(work / "samples.jsonl", Generation)] == expected
    assert [j.id for j in read_jsonl(work / "judged.jsonl", Judgement)] == expected


def test_samples_are_diverse_and_recorded(ranked):
    work, _, _ = ranked
    generations = read_jsonl(work / "samples.jsonl", Generation)
    assert len(generations) == 3
    for generation in generations:
        assert len(generation.candidates) == 3 and generation.trials >= 3
        off_diagonal = [generation.rouge_l[i][j] for i in range(3) for j in range(3) if i != j]
        # Below tau unless a slot ran out of trials (then more draws than slots were made).
        assert max(off_diagonal) < 0.5 or generation.trials > 3
        assert all(c.temperature >= 1.0 for c in generation.candidates)
    assert json.loads((work / "samples.cost.json").read_text())["total"]["calls"] >= 9


def test_every_judgement_is_kept_ranked_or_quarantined(ranked):
    work, _, summary = ranked
    judgements = read_jsonl(work / "judged.jsonl", Judgement)
    assert len(judgements) == 3
    for judgement in judgements:  # the used attempt is the last, and the only usable one
        outcomes = [a.outcome for a in judgement.attempts]
        assert set(outcomes[:-1]) <= {"unusable"} and len(outcomes) <= 2  # --retries 1
        assert judgement.ok == (outcomes[-1] == "ok") == (judgement.used == len(outcomes) - 1)
        assert all(a.temperature == (0.0 if k == 0 else 0.7) for k, a in enumerate(judgement.attempts))
        assert all(json.loads(a.raw) for a in judgement.attempts)  # constrained: the schema's JSON
    quarantined = read_jsonl(work / "quarantine.jsonl", QuarantinedAnswer)
    assert [(q.id, q.attempt, q.raw) for q in quarantined] == [
        (j.id, k, a.raw) for j in judgements for k, a in enumerate(j.attempts) if a.outcome == "unusable"]
    ok = [j for j in judgements if j.ok]
    assert ok, "the constrained SmolLM2 judge ranked none of the 3 instructions"
    assert f"{len(ok)} of 3 instructions ranked" in summary and f"{len(quarantined)} unusable answers" in summary
    rankings = read_jsonl(work / "ranked.jsonl", Ranking)
    assert [r.id for r in rankings] == [j.id for j in ok]
    for ranking, judgement in zip(rankings, ok, strict=True):
        assert ranking.source == "judge" and len(ranking.candidates) == len(judgement.rank)


def test_provenance_names_the_model_file(ranked, smollm2_gguf):
    work, _, _ = ranked
    digest = sha256_file(smollm2_gguf)
    for output in ("samples.jsonl", "judged.jsonl", "quarantine.jsonl", "samples.cost.json"):
        stamp = json.loads((work / f"{output}.provenance.json").read_text())
        assert stamp["model"] == {"kind": "llamacpp", "model": str(smollm2_gguf), "template": "chat",
                                  "sha256": digest}
        assert stamp["calls"]["max_failed"] == 0  # a local model may not fail


def test_rerun_is_answered_from_the_cache(ranked):
    work, provider, _ = ranked
    tuna_process("sample", "--instructions", work / "instructions.jsonl", "--first", 2,
                 "--held-out", work / "held_out.jsonl", "--n", 3, "--max-tokens", 24, "--tau", 0.5, *provider,
                 "-o", work / "again.jsonl")
    assert (work / "again.jsonl").read_text() == (work / "samples.jsonl").read_text()
    assert json.loads((work / "again.cost.json").read_text())["this_run"]["calls"] == 0
