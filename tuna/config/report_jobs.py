"""The Snakemake benchmark files (`benchmark:` of the heavy rules) of the jobs a report
depends on: what the report's "what each job cost" table reads.

Named as the rules name them (`Layout.benchmark("train/{model}")`, ...), for exactly the
jobs upstream of the report's inputs. They are not the report's declared inputs: a job's
TSV is written when the job finishes, and each job's outputs are already (transitively)
the report's inputs, so the report runs after them and reruns whenever they do; declaring
a TSV would instead rerun a finished job (a week of training) only because its TSV is
missing (a job run before the rule had `benchmark:`), where the report just counts it absent.
"""

from __future__ import annotations

from types import SimpleNamespace

from tuna.config.models import TrainedModel


def upstream_models(plan, roots: list[str]) -> list[str]:
    """`roots` and every model they need (init, sampled models, proxy ranking model backbones), in plan order."""
    needed, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += plan.dependencies(name)
    return [name for name in plan.order() if name in needed]


def _jobs(plan, held_out: list[str]) -> dict[str, dict[str, tuple[str, dict]]]:
    """Rule -> job -> (its benchmark TSV, its wildcards), for each heavy job upstream of the report
    of the evaluated models (and the `held_out` models whose held-out results it shows)."""
    L, shards, sampled = plan.layout, plan.shards, plan.sampled_models()
    models = upstream_models(plan, [*plan.eval_models, *held_out, *sampled, *(m for m, _ in plan.prm_agreements())])
    trained = [m for m in models if isinstance(plan.models[m], TrainedModel)]
    prm_ranks = list(dict.fromkeys((part.model, plan.prm_name(part)) for m in trained
                                   for part in plan.models[m].data if part.name == "prm_rank"))
    prm_trains = list(dict.fromkeys([*prm_ranks, *plan.prm_agreements()]))
    jobs = {
        "teacher": [(str(s), {"shard": s}) for s in shards] if plan.uses_teacher() else [],
        "sample": [(f"{m}/{s}", {"model": m, "shard": s}) for m in sampled for s in shards],
        "judge": [(f"{m}/{s}", {"model": m, "shard": s}) for m in sampled for s in shards],
        "prm_train": [(f"{m}/{prm}", {"model": m, "prm": prm}) for m, prm in prm_trains],
        "prm_rank": [(f"{m}/{prm}", {"model": m, "prm": prm}) for m, prm in prm_ranks],
        "train": [(m, {"model": m}) for m in trained],
        "generate_answers": [(f"{m}/{name}", {"model": m, "prompts": name}) for m in plan.eval_models
                             for name in plan.answer_sets()],
        "judge_vicuna": [(m, {"model": m}) for m in plan.judged_models()],
    }
    return {rule: {job: (L.benchmark(f"{rule}/{job}"), wildcards) for job, wildcards in named}
            for rule, named in jobs.items() if named}


def benchmarked_jobs(plan, held_out: list[str]) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, dict]]]:
    """For each heavy job upstream of the report of the evaluated models (and the `held_out` models
    whose held-out results it shows): rule -> job -> its benchmark TSV, and rule -> job -> what it
    asks the scheduler for (tuna.config.resources: memory MB, runtime minutes, GPUs), shown beside
    what its benchmark measured in the jobs table."""
    from tuna.config.resources import ClusterJobs

    cluster = ClusterJobs(plan)
    job_of = {"teacher": cluster.teacher, "sample": cluster.sampler, "judge": cluster.judge,
              "prm_train": cluster.prm_train, "prm_rank": cluster.prm_rank, "train": cluster.train,
              "generate_answers": cluster.answerer, "judge_vicuna": cluster.vicuna_judge}
    files, asked = {}, {}
    for rule, named in _jobs(plan, held_out).items():
        files[rule], asked[rule] = {}, {}
        for job, (path, wildcards) in named.items():
            resources = job_of[rule](SimpleNamespace(**wildcards))
            files[rule][job] = path
            asked[rule][job] = {"mem_mb": resources.mem_mb, "runtime_min": resources.runtime, "gpus": resources.gpu}
    return files, asked
