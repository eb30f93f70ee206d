"""Planning speed at paper scale: `snakemake -n` of config/paper.yaml's whole model zoo
against the same config cut down to the paper's four main models (the obvious baseline:
the planning cost per job should not grow with the zoo), in one run.

    python scripts/bench_planning.py [--repeats 3]

Prints jobs, wall and CPU seconds (best of the repeats) and the per-job ratio.
"""

from __future__ import annotations

import argparse
import copy
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MAIN_MODELS = ("alpaca", "tuna_p", "tuna_c", "tuna")


def plan_once(config: Path, workdir: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of snakemake, planned jobs) of one dry run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(workdir), "-n", "--quiet", "rules",
                           "--cores", "2", "--configfile", str(config)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    jobs = int(re.search(r"^total\s+(\d+)$", done.stdout + done.stderr, re.M).group(1))
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, seconds (what the test suite runs)")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    small = copy.deepcopy(paper)
    small["models"] = {name: paper["models"][name] for name in MAIN_MODELS}
    small["prms"], small["evaluation"]["models"], small["evaluation"]["tables"] = {}, list(MAIN_MODELS), {}
    held_out = small["evaluation"].get("held_out", {})
    if held_out.get("models"):  # the beta sweep's models are not among the four
        held_out["models"] = [m for m in held_out["models"] if m in MAIN_MODELS]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = {}
        for name, config in (("4 main models", small), (f"whole zoo ({len(paper['models'])} models)", paper)):
            path = tmp / f"{len(rows)}.yaml"
            path.write_text(yaml.safe_dump(config))
            runs = [plan_once(path, tmp / f"work{len(rows)}") for _ in range(args.repeats)]
            rows[name] = min(runs)
            wall, cpu, jobs = rows[name]
            print(f"{name:28s} {jobs:4d} jobs  {wall:5.2f} s wall  {cpu:5.2f} s CPU  "
                  f"{1000 * wall / jobs:5.1f} ms/job")
    (small_wall, _, small_jobs), (zoo_wall, _, zoo_jobs) = rows.values()
    print(f"per-job planning time, zoo vs 4 models: {(zoo_wall / zoo_jobs) / (small_wall / small_jobs):.2f}x "
          f"(target: whole zoo under 5 s)")


if __name__ == "__main__":
    main()
