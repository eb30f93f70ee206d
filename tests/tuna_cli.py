"""Run a `tuna` command and check how it ended (shared by the tests of commands): in-process
(click's runner, fast) or as its own process (what a user or a Snakemake job runs)."""

from __future__ import annotations

import subprocess

from click.testing import CliRunner, Result

from tuna.cli import main


def tuna(*args, code: int = 0, input: str | None = None) -> Result:
    """`tuna ARGS...` in-process (each argument str()-ed), asserting it exits with `code` (0: success;
    1: a TunaError; 2: a usage error) and showing its output when not. Any other exception
    propagates with its traceback instead of becoming exit code 1."""
    result = CliRunner().invoke(main, [str(arg) for arg in args], input=input, catch_exceptions=False)
    assert result.exit_code == code, (f"tuna {' '.join(map(str, args))}: exit {result.exit_code}, not {code}\n"
                                      f"{result.output}")
    return result


def tuna_process(*args, code: int = 0, env: dict | None = None) -> subprocess.CompletedProcess:
    """`tuna ARGS...` as a process (text output captured), asserting its exit code as `tuna` does."""
    result = subprocess.run(["tuna", *map(str, args)], capture_output=True, text=True, env=env)
    assert result.returncode == code, (f"tuna {' '.join(map(str, args))}: exit {result.returncode}, not {code}\n"
                                       f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result
