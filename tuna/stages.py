"""The pipeline's ranking and generation stages, file in, file out: what each `tuna` command does.

Each function reads its inputs, writes its outputs with their provenance stamps and
returns the one-line summary the command prints; a generation stage runs its provider
through `tuna.runner.Stage` (one failure budget, cost file, provenance naming the
model, provider closed). The pure pieces live in tuna.ranking and tuna.evaluate; this
module is the glue between them and the files.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tuna import provenance
from tuna.config.settings import Judge, Sampling, Teacher
from tuna.datasets import contextual_instructions, read_ids, select_shard
from tuna.errors import TunaError
from tuna.llm import Request, derive_seed
from tuna.records import Generation, Instruction, Judgement, answers_of, read_jsonl, write_jsonl
from tuna.runner import ProviderRun, Stage


def _counts(candidates) -> str:
    kinds = [c.finish_reason for c in candidates]
    return (f"{kinds.count('error')} failed, {kinds.count('empty')} empty, {kinds.count('length')} truncated")


def teacher(instructions: Path, shard: tuple[int, int], settings: Teacher, out: Path, provider: ProviderRun) -> str:
    """N teacher responses with token log-probs per instruction of one shard (Sec. 2.2).

    Failed or empty responses are kept and marked (finish_reason 'error'/'empty');
    `tuna score` never ranks them.
    """
    index, count = shard
    records = select_shard(read_jsonl(instructions, Instruction), index, count)
    with Stage("teacher", provider) as stage:
        requests = [Request(r.instruction, r.input, n=settings.n, temperature=settings.temperature,
                            max_tokens=settings.max_tokens, seed=derive_seed(settings.seed, r.id)) for r in records]
        results = stage.provider.generate(requests, desc=f"teacher {index}/{count}")
        generations = [Generation(id=r.id, model=stage.provider.name, candidates=c) for r, c in zip(records, results, strict=True)]
        stage.finish({out: generations}, inputs=[instructions],
                     params={"shard": f"{index}/{count}", **settings.model_dump(exclude={"provider"})})
        return (f"{out}: {len(records)} instructions, {sum(map(len, results))} responses "
                f"({_counts(c for cands in results for c in cands)}); {stage.summary()}")


def _contextual(instructions: Path, first: int | None, held_out: Path | None) -> list[Instruction]:
    return contextual_instructions(read_jsonl(instructions, Instruction), first,
                                   read_ids(held_out) if held_out else frozenset())


def sample(instructions: Path, shard: tuple[int, int], first: int | None, settings: Sampling, out: Path,
           provider: ProviderRun, held_out: Path | None = None) -> str:
    """N mutually dissimilar self samples per instruction (Sec. 2.3), trials and ROUGE-L recorded."""
    from tuna.ranking.contextual import provider_draw
    from tuna.ranking.sampling import sample_diverse

    records = select_shard(_contextual(instructions, first, held_out), *shard)
    with Stage("sample", provider) as stage:
        draw = provider_draw(stage.provider, settings.max_tokens, settings.seed)
        generations = sample_diverse(records, draw, settings, model=stage.provider.name)
        stage.finish({out: generations}, inputs=[instructions, *([held_out] if held_out else [])],
                     params={"shard": list(shard), "first": first, **settings.model_dump(exclude={"provider"})})
        redrawn = sum(g.trials - settings.n for g in generations)
        return (f"{out}: {len(generations)} instructions x {settings.n} samples ({redrawn} redraws; "
                f"{_counts(c for g in generations for c in g.candidates)}); {stage.summary()}")


def judge(instructions: Path, samples: Path, first: int | None, settings: Judge, seed: int, out: Path,
          quarantine: Path, provider: ProviderRun, held_out: Path | None = None) -> str:
    """Rank each instruction's samples with a judge and the Table 9 prompt, every attempt kept;
    every unusable answer also goes to `quarantine`. More instructions left without a usable
    ranking than `settings.max_unranked` allows fail the stage, after both files are written."""
    from tuna.ranking.contextual import judge_samples, quarantined

    wanted = {r.id: r for r in _contextual(instructions, first, held_out)}
    generations = [g for g in read_jsonl(samples, Generation) if g.id in wanted]
    with Stage("judge", provider) as stage:
        judgements = judge_samples(stage.provider, wanted, generations, settings.max_tokens, settings.retries,
                                   settings.constrained, seed, settings.system_prompt)
        unusable = quarantined(judgements)
        stage.finish({out: judgements, quarantine: unusable},
                     inputs=[instructions, samples, *([held_out] if held_out else [])],
                     params={"first": first, "seed": seed, **settings.model_dump(exclude={"provider"})})
        ranked = sum(j.ok for j in judgements)
        failed = sum(j.attempts[-1].outcome == "failed" for j in judgements)
        without = len(judgements) - ranked - failed
        stage.check_verdicts(without, len(judgements), settings.max_unranked, "instructions",
                             Counter(j.error for j in judgements if not j.ok and j.attempts[-1].outcome != "failed"),
                             f"{out} and {quarantine}")
        return (f"{out}: {ranked} of {len(judgements)} instructions ranked, {without} "
                f"without a usable answer, {failed} with a failed call; {len(unusable)} unusable answers "
                f"quarantined ({quarantine}); {stage.summary()}")


def generate_answers(prompts: Path, max_tokens: int, out: Path, provider: ProviderRun) -> str:
    """Greedy answers of a model to benchmark prompts, in the model's prompt template."""
    records = read_jsonl(prompts, Instruction)
    with Stage("generate-answers", provider) as stage:
        requests = [Request(r.instruction, r.input, n=1, temperature=0.0, max_tokens=max_tokens, seed=0,
                            logprobs=False) for r in records]
        candidates = stage.provider.generate(requests, desc="answers")
        stage.finish({out: [Generation(id=r.id, model=stage.provider.name, candidates=c)
                            for r, c in zip(records, candidates, strict=True)]},
                     inputs=[prompts], params={"max_tokens": max_tokens, "temperature": 0})
        return f"{out}: {len(records)} answers ({_counts(c for cs in candidates for c in cs)}); {stage.summary()}"


def judge_vicuna(questions: str, answers: Path, baseline_answers: Path, names: tuple[str, str], style: str,
                 judge_prompts: str, settings: Judge, out: Path, judgements: Path, provider: ProviderRun,
                 orders: str = "both") -> str:
    """Judge a model's Vicuna QA answers against the baseline's, in both orders or the model first,
    every attempt kept (questions and judge prompts: a file, or `demo` for tuna's own); more
    question orders without a verdict than `settings.max_unranked` allows fail the stage after
    both files are written."""
    from tuna.evaluate import vicuna

    model_name, baseline_name = names
    questions = vicuna.questions_file(questions)
    judge_prompts = vicuna.DEMO_JUDGE_PROMPTS[style] if judge_prompts == "demo" else Path(judge_prompts)
    items = vicuna.load_questions(questions)
    prompts = vicuna.load_judge_prompts(judge_prompts, style)
    model, baseline = answers_of(answers), answers_of(baseline_answers)
    missing = [q.id for q in items if q.id not in model or q.id not in baseline]
    if missing:
        raise TunaError(f"no answer to question {missing[0]} in {answers} or {baseline_answers} "
                        f"({len(missing)} missing)")
    with Stage("judge-vicuna", provider) as stage:
        raw = vicuna.judge_pairs(stage.provider, prompts, items, model, baseline, style, settings.retries,
                                 settings.max_tokens, settings.constrained, vicuna.judged_orders(orders))
        summary = vicuna.summarize(raw)
        result = {"benchmark": "vicuna", "model": model_name, "baseline": baseline_name, "judge": stage.provider.name,
                  "style": style, "constrained": settings.constrained, "judge_prompts": str(judge_prompts),
                  "questions_file": str(questions), **summary, "cost_usd": stage.cost()["total"]["usd"]}
        stage.finish({out: result, judgements: raw}, inputs=[questions, judge_prompts, answers, baseline_answers],
                     params={"style": style, "orders": orders,
                             **settings.model_dump(exclude={"provider", "system_prompt"})})
        unusable = [j for j in raw if j.verdict is None and j.attempts and j.attempts[-1].outcome == "unusable"]
        stage.check_verdicts(len(unusable), len(raw), settings.max_unranked, "question orders",
                             Counter(j.attempts[-1].error for j in unusable), f"{out} and {judgements}")
        consistency = summary["position_consistency"]
        return (f"{out}: {model_name} vs {baseline_name}: win {summary['win']} / lose {summary['lose']} / "
                f"tie {summary['tie']}, unparsed {summary['unparsed']} ({summary['attempts']} answers, "
                f"{summary['failed_calls']} failed calls"
                + (f"; the two orders agree on {consistency['agree']} of {consistency['questions']}"
                   if consistency else f"; one order: {model_name} first") + f"); {stage.summary()}")


def ctx_rank(instructions: Path, samples: list[Path], judged: list[Path], out: Path) -> str:
    """Gather judged shards into training-ready rankings; what is left out is counted."""
    from tuna.ranking.contextual import judged_rankings

    records = {r.id: r for r in read_jsonl(instructions, Instruction)}
    generations = [g for path in samples for g in read_jsonl(path, Generation)]
    judgements = [j for path in judged for j in read_jsonl(path, Judgement)]
    rankings, excluded = judged_rankings(records, generations, judgements)
    write_jsonl(out, rankings)
    provenance.stamp([out], inputs=[instructions, *samples, *judged], params={"excluded": dict(excluded)})
    left_out = ", ".join(f"{count} {what}" for what, count in excluded.items()) or "nothing"
    return f"{out}: {len(rankings)} rankings; left out: {left_out}"
