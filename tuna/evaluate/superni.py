"""Super-NaturalInstructions (Wang et al., 2022): the 119 English test tasks of the default split.

Each task file (upstream `tasks/<name>.json`) holds a definition, positive examples
and instances; the official test set is the first 100 instances of each test task.
Prompts follow the Tk-Instruct encoding the paper used ("Definition: ...", then
optional " Positive Example k -" blocks, then "Now complete the following example -");
0-shot has the definition only, 2-shot adds the first two positive examples, each only
while the prompt stays within Tk-Instruct's token budget (`max_source_length`, 1,024
tokens of the evaluated model's tokenizer); an over-long prompt is then cut to the budget.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from tuna.config.settings import SUPERNI_SHOTS, SuperNI, default
from tuna.errors import TunaError
from tuna.llm.tokenizer import Tokenizer
from tuna.records import Instruction, read_json, write_jsonl

# Upstream pin: the commit of splits/default/test_tasks.txt in tuna/config/downloads.yaml.
UPSTREAM_COMMIT = "b00871c954282e35d14de77c546918ee8b9d90da"
TASK_URL = "https://raw.githubusercontent.com/allenai/natural-instructions/{commit}/tasks/{task}.json"
MAX_SOURCE_LENGTH = default(SuperNI, "max_source_length")  # Tk-Instruct's evaluation scripts use 1024


@dataclass(frozen=True)


class Task:
    name: str
    category: str  # first entry of "Categories", as the official reference file uses
    definition: str
    positive_examples: tuple[dict, ...]
    instances: tuple[dict, ...]  # {"id", "input", "output": [references]}


def read_task_names(path: str | Path) -> list[str]:
    """Task names of a split file (one per line, blank lines ignored)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TunaError(f"{path}: cannot read ({exc.strerror})") from exc
    return [line.strip() for line in lines if line.strip()]


def load_task(path: str | Path, instances: int = 100) -> Task:
    """Read one upstream task file, keeping its first `instances` instances."""
    path = Path(path)
    data = read_json(path)
    for key in ("Definition", "Categories", "Positive Examples", "Instances"):
        if key not in data:
            raise TunaError(f"{path}: key '{key}' missing (not a Super-NaturalInstructions task file?)")
    for index, instance in enumerate(data["Instances"][:instances]):
        if not isinstance(instance.get("output"), list) or not instance["output"] or "id" not in instance:
            raise TunaError(f"{path}: Instances.{index}: needs an 'id' and a non-empty 'output' list")
    definition = data["Definition"]
    return Task(
        name=path.stem,
        category=data["Categories"][0],
        definition=definition[0] if isinstance(definition, list) else definition,
        positive_examples=tuple(data["Positive Examples"]),
        instances=tuple(data["Instances"][:instances]),
    )


def load_tasks(task_dir: str | Path, names: list[str], instances: int = 100) -> list[Task]:
    task_dir = Path(task_dir)
    missing = [name for name in names if not (task_dir / f"{name}.json").exists()]
    if missing:
        raise TunaError(f"{task_dir}: {len(missing)} task file(s) missing, e.g. {missing[0]}.json")
    return [load_task(task_dir / f"{name}.json", instances) for name in names]


def _end_with_punctuation(text: str) -> str:
    """The encoding closes every field with a period unless it already ends in punctuation."""
    return text if text and text[-1] in string.punctuation else text + "."


@dataclass(frozen=True)


class Budget:
    """Tk-Instruct's `max_source_length`: a prompt's size in the evaluated model's tokens."""

    tokenizer: Tokenizer
    max_tokens: int = MAX_SOURCE_LENGTH

    def fits(self, text: str) -> bool:
        return len(self.tokenizer.encode(text)) <= self.max_tokens

    def cut(self, text: str) -> tuple[str, bool]:
        """The text's first `max_tokens` tokens (decoded without special tokens), and whether it was cut."""
        ids = self.tokenizer.encode(text)
        return (text, False) if len(ids) <= self.max_tokens else (self.tokenizer.decode(ids[:self.max_tokens]), True)


@dataclass(frozen=True)


class Encoded:
    text: str
    examples: int  # positive examples in the prompt
    cut: bool  # the prompt was over the budget and lost its end


def encode(task: Task, instance: dict, shots: int, budget: Budget | None = None) -> Encoded:
    """The Tk-Instruct prompt of one instance: definition, up to `shots` positive examples, the input.

    With a budget, as Tk-Instruct's collator: each example is added only while the whole
    prompt stays within it (the first one that does not fit ends the examples), then the
    prompt is cut to the budget, which drops its end ("Output: " first).
    """
    if shots not in SUPERNI_SHOTS:
        raise ValueError(f"shots must be one of {SUPERNI_SHOTS}, got {shots}")
    definition = _end_with_punctuation("Definition: " + task.definition.strip()) + "\n\n"
    task_input = (_end_with_punctuation(f"Now complete the following example -\nInput: {instance['input'].strip()}")
                  + "\nOutput: ")
    examples: list[str] = []
    for number, example in enumerate(task.positive_examples[:shots], start=1):
        block = (_end_with_punctuation(f" Positive Example {number} -\nInput: {example['input'].strip()}") + "\n"
                 + _end_with_punctuation(f" Output: {example['output'].strip()}") + "\n\n")
        # Upstream measures the examples so far joined by " " (but prompts them joined by ""):
        # the same text for up to two examples.
        if budget is not None and not budget.fits(definition + " ".join(examples) + block + task_input):
            break
        examples.append(block)
    text = definition + "".join(examples) + task_input
    text, cut = budget.cut(text) if budget is not None else (text, False)
    return Encoded(text, len(examples), cut)


def prompts(tasks: list[Task], shots: int, budget: Budget | None = None) -> tuple[list[Instruction], dict]:
    """One prompt record per test instance (ids are the upstream instance ids), and how the
    budget changed them: prompts with fewer than `shots` examples, prompts cut."""
    records, short, cut = [], 0, 0
    for task in tasks:
        for instance in task.instances:
            encoded = encode(task, instance, shots, budget)
            records.append(Instruction(id=instance["id"], instruction=encoded.text))
            short += encoded.examples < min(shots, len(task.positive_examples))
            cut += encoded.cut
    return records, {"fewer_examples": short, "cut": cut}


def fetch(split: Path, commit: str | None, out: Path) -> str:
    """The task files of a Super-NaturalInstructions split from a pinned commit. They have no
    published checksums: each file's sha256 goes into OUT/provenance.json, so a later
    download can be compared."""
    from tuna import datasets, provenance

    commit = commit or UPSTREAM_COMMIT
    names = read_task_names(split)
    digests = datasets.fetch_all({n: (TASK_URL.format(commit=commit, task=n), None) for n in names}, out)
    provenance.stamp([out], inputs=[split], params={"commit": commit}, extra={"sha256": digests})
    return f"{out}: {len(names)} task files at allenai/natural-instructions@{commit}"


def write_prompts(task_dir: Path, split: Path, shots: int, settings: SuperNI, tokenizer: str | None,
                  out: Path) -> str:
    """The Tk-Instruct prompts of a split's tasks (`settings`: instances_per_task, max_source_length),
    each within the token budget of the evaluated model's tokenizer (a GGUF file, a
    transformers directory or a hub id)."""
    from tuna import provenance
    from tuna.llm.tokenizer import load_tokenizer

    budget_tokens = settings.max_source_length
    if budget_tokens and tokenizer is None:
        raise TunaError(f"Super-NI prompts: the {budget_tokens}-token budget is measured with the evaluated model's "
                        "tokenizer: name it (eval-prompts --tokenizer), or set no budget (--max-source-length 0)")
    tasks = load_tasks(task_dir, read_task_names(split), settings.instances_per_task)
    budget = Budget(load_tokenizer(tokenizer), budget_tokens) if budget_tokens else None
    records, changed = prompts(tasks, shots, budget)
    count = write_jsonl(out, records)
    params = {"benchmark": "superni", "shots": shots, "instances_per_task": settings.instances_per_task,
              "max_source_length": budget_tokens, **({"tokenizer": budget.tokenizer.name} if budget else {}), **changed}
    provenance.stamp([out], inputs=[task_dir, split, params.get("tokenizer")], params=params)
    note = (f" ({changed['cut']} cut to {budget_tokens} tokens, {changed['fewer_examples']} with fewer than {shots} "
            "examples)") if budget else ""
    return f"{out}: {count} superni prompts{note}"
