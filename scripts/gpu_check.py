#!/usr/bin/env python
"""GPU check: does tuna work on this GPU, and how fast? One command, one table (and JSON).

    python scripts/gpu_check.py                      # CUDA: a tiny random llama, then a ~1.1B one
    python scripts/gpu_check.py --device cpu --tiny  # every path on the CPU in a minute (the test suite's run)

On random-weight llamas with a word-level tokenizer built here (no downloads): `tiny`
(2 layers) and `1b` (TinyLlama-1.1B's shape, 1.1B parameters), it runs

  - the trainer as the workflow runs it (`python -m tuna.cli.train`, one process each):
    full fine-tuning with plain torch in bf16 (fp32 weights, bf16 autocast), LoRA (r 16),
    and DeepSpeed ZeRO-2 and ZeRO-3 on one rank (bf16 weights). Reported: tokens/s (the
    trainer's own, median over the steps after the first), model FLOPs utilisation
    against the card's dense bf16 peak (6 x matmul parameters per token; LoRA 4 x, the
    frozen base gets no weight gradients; attention's quadratic term left out), peak GPU
    memory, and the first step's loss against the padded baseline's on the same batch
    (the obvious implementation of scripts/bench_train.py: one row per response, the
    prompt repeated, full log-softmax);
  - the shared-prompt packed step against the padded step (forward, backward, AdamW) on
    the same batches: tokens/s of each and the ratio;
  - the `hf` provider: batched generation tokens/s, and the log-probs it recorded while
    decoding against those of a plain forward over prompt + answer;
  - a proxy ranking model: `tuna prm-train` steps, then ranking samples without gradients.

Targets, checked on CUDA only (never in a test): MFU >= 40% for the 1B full fine-tune in
bf16, the packed step >= 1.5x the padded one. Correctness (losses, log-probs, every run
finishing) is checked everywhere; the exit status is 1 when anything fails.

Imports: torch, transformers, peft, tokenizers, numpy, pandas, pyyaml, jinja2, tensorboard
(a GPU image's usual set) and what README's wheel folder adds: tuna itself, DeepSpeed
(without compiled ops), pydantic, click, hjson. Nothing else of tuna's dependencies.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]  # tuna from this checkout unless installed; bench_train

from bench_train import make_batch, train_step  # noqa: E402

from tuna.records import Candidate, Generation, Instruction, RankedCandidate, Ranking, write_jsonl  # noqa: E402

# Dense bf16 peak FLOP/s by the device's name (the first match wins).
PEAKS = [(("H200",), 989e12), (("H100", "PCIe"), 756e12), (("H100", "NVL"), 835e12), (("H100",), 989e12),
         (("A100",), 312e12)]
TARGETS = {"mfu": 0.40, "packed_over_padded": 1.5}
# TinyLlama-1.1B's shape; the tiny one checks every path in seconds.
MODELS = {
    "tiny": dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2),
    "1b": dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
               num_attention_heads=32, num_key_value_heads=4),
}
# Per model: examples, batch, micro-batch, length scale (Alpaca-like lengths x scale), hf prompts, new tokens.
SIZES = {"tiny": dict(examples=12, batch=4, micro=2, scale=0.1, prompts=8, new_tokens=8),
         "1b": dict(examples=96, batch=16, micro=4, scale=1.0, prompts=32, new_tokens=64)}
TOLERANCE = {"bf16": 1e-2, "fp32": 1e-4}  # relative loss difference to the padded baseline
LOGPROB_TOLERANCE = {"bf16": 0.05, "fp32": 1e-3}  # nats per token, generation vs a plain forward


def word_tokenizer(vocab_size: int):
    """A word-level tokenizer whose vocabulary fills the model's: `w0 w1 ...` (other words: <unk>)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "</s>"]
    vocab = {word: i for i, word in enumerate(specials + [f"w{i}" for i in range(vocab_size - len(specials))])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="</s>", pad_token="<pad>", unk_token="<unk>")


def make_model(directory: Path, shape: dict) -> tuple[Path, int]:
    """A random llama (fp32 safetensors) + tokenizer; its matmul parameters (all but the input embedding)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(**shape, max_position_embeddings=2048, pad_token_id=0, bos_token_id=None, eos_token_id=2)
    model = LlamaForCausalLM(config)
    model.save_pretrained(directory, safe_serialization=True)
    word_tokenizer(shape["vocab_size"]).save_pretrained(directory)
    return directory, sum(p.numel() for p in model.parameters()) - model.get_input_embeddings().weight.numel()


def words(generator: torch.Generator, vocab: int, low: int, high: int) -> str:
    n = int(torch.randint(low, high + 1, (), generator=generator))
    return " ".join(f"w{i}" for i in torch.randint(0, vocab - 3, (n,), generator=generator).tolist())


def make_rankings(path: Path, vocab: int, n: int, scale: float) -> Path:
    """n rankings with Alpaca-like lengths (instruction 40-80 words, 4 or 3 candidates and an original
    of 50-250), times `scale`."""
    generator = torch.Generator().manual_seed(1)

    def text(low, high):
        return words(generator, vocab, max(1, int(low * scale)), max(1, int(high * scale)))

    write_jsonl(path, [Ranking(id=f"x{i}", instruction=text(40, 80), output=text(50, 250), source="prob",
                               candidates=[RankedCandidate(text=text(50, 250)) for _ in range(4 if i % 2 else 3)])
                       for i in range(n)])
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Check:
    """Runs the checks of one device and collects the table's rows."""

    def __init__(self, device: str, workdir: Path, peak: float | None):
        self.device, self.workdir, self.peak = device, workdir, peak
        self.precision = "bf16" if device == "cuda" else "fp32"  # bf16 on this CPU would take minutes
        self.rows: list[dict] = []

    def env(self, ranks: bool = False) -> dict:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               "TOKENIZERS_PARALLELISM": "false"}
        if self.device == "cpu":
            env.update(CUDA_VISIBLE_DEVICES="", DS_ACCELERATOR="cpu")
        if ranks:  # one DeepSpeed rank without the launcher: what it would set
            env.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
        return env

    def add(self, row: dict) -> None:
        """A row of the table: model, check, ok, result (what it says), and the numbers behind it."""
        self.rows.append(row)
        print(f"  {row['model']:5} {row['check']:28} {row['result']}{'' if row['ok'] else '  FAILED'}",
              file=sys.stderr, flush=True)

    def command(self, name: str, module: str, args: list, ranks: bool = False) -> str | None:
        """Run `python -m module args`; None when it succeeded, else the last line of its log."""
        log = self.workdir / f"{name}.log"
        with log.open("w") as handle:
            done = subprocess.run([sys.executable, "-m", module, *map(str, args)], stdout=handle,
                                  stderr=subprocess.STDOUT, env=self.env(ranks), timeout=900)
        if done.returncode == 0:
            return None
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        return f"exit {done.returncode}: " + (lines[-1][-300:] if lines else "no output")

    def run_model(self, label: str) -> None:
        shape, size = MODELS[label], SIZES[label]
        model_dir, matmul = make_model(self.workdir / f"{label}_model", shape)
        data = make_rankings(self.workdir / f"{label}_ranked.jsonl", shape["vocab_size"], size["examples"],
                             size["scale"])
        settings = ["--batch-size", size["batch"], "--micro-batch-size", size["micro"], "--precision", self.precision,
                    "--lr", "1e-5", "--warmup-steps", "1", "--template", "alpaca"]
        baseline = self.padded_first_step(model_dir, data, size)
        configs = [("train full (plain)", [], False), ("train LoRA r16 (plain)", ["--lora", "{r: 16}"], False),
                   ("train ZeRO-2 (1 rank)", ["--deepspeed", "zero2"], True),
                   ("train ZeRO-3 (1 rank)", ["--deepspeed", "zero3"], True)]
        if self.device == "cuda":
            configs.append(("train QLoRA r16 (plain)", ["--lora", "{r: 16, quantize: 4bit}"], False))
        for name, extra, ranks in configs:
            if "QLoRA" in name and importlib.util.find_spec("bitsandbytes") is None:  # optional: not in the wheels
                self.add({"model": label, "check": name, "ok": True, "result": "skipped: bitsandbytes is not installed"})
                continue
            self.trainer(label, name, model_dir, data, settings + extra, ranks, matmul, baseline)
        self.packed_vs_padded(label, model_dir, size)
        self.generation(label, model_dir, shape["vocab_size"], size)
        self.proxy_ranker(label, model_dir, data, shape["vocab_size"], size)

    def padded_first_step(self, model_dir: Path, data: Path, size: dict) -> float:
        """The loss of the trainer's first step computed the obvious way (bench_train.padded_step) on its batch."""
        from bench_train import padded_step
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from tuna.train.data import load_examples
        from tuna.train.loss import TunaLoss
        from tuna.train.trainer import step_batches

        examples, _ = load_examples(data, AutoTokenizer.from_pretrained(model_dir), "alpaca", TunaLoss(), 512)
        batch = step_batches(len(examples), 1.0, size["batch"], 42)[0]  # the trainer's seed
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(self.device)
        losses = []
        with torch.no_grad(), self.autocast():
            for start in range(0, len(batch), size["micro"]):
                micro = [examples[i] for i in batch[start:start + size["micro"]]]
                losses.append(padded_step(model, TunaLoss(), micro)[0].item())
        del model
        self.free()
        return statistics.fmean(losses)

    def autocast(self):
        return torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def free(self) -> None:
        if self.device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()

    def trainer(self, label, name, model_dir, data, args, ranks, matmul, baseline) -> None:
        out = self.workdir / f"{label}_{name.split()[1]}"
        failed = self.command(out.name, "tuna.cli.train", ["--init", model_dir, "--data", data, "-o", out, *args], ranks)
        if failed:
            return self.add({"model": label, "check": name, "ok": False, "result": failed})
        stamp = json.loads((out / "provenance.json").read_text())
        shutil.rmtree(out)  # a 1B checkpoint is GBs: keep only what it says
        log = stamp["log"]
        speed = statistics.median(row["tokens_per_s"] for row in (log[1:] or log))
        lora = "--lora" in args
        mfu = (4 if lora else 6) * matmul * speed / self.peak if self.peak else None
        loss = log[0]["loss"]
        close = abs(loss - baseline) <= TOLERANCE[self.precision] * abs(baseline)
        self.add({"model": label, "check": name, "ok": close, "tokens_per_s": round(speed), "mfu": mfu,
                  "peak_gib": stamp["peak GPU memory (GiB)"], "loss": loss, "padded_loss": baseline,
                  "steps": len(log), "trainable": stamp["trainable parameters"],
                  "target": TARGETS["mfu"] if name.startswith("train full") and label == "1b" else None,
                  "result": f"first loss {loss:.5f}, padded {baseline:.5f}; {len(log)} steps"})

    def packed_vs_padded(self, label: str, model_dir: Path, size: dict) -> None:
        """The same batches through both steps (forward, backward, AdamW), alternating."""
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
        model = model.to(self.device).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
        batches = [make_batch(model.config.vocab_size, 4, (4, 3), seed, size["scale"]) for seed in range(4)]
        tokens = [sum(len(e.prompt) + sum(map(len, e.responses)) for e in batch) for batch in batches]
        times = {"ours": [], "obvious": []}
        with self.autocast():
            for mode in times:  # warm up kernels and the allocator
                train_step(mode, model, optimizer, batches[0])
            for batch in batches:
                for mode in times:
                    times[mode].append(train_step(mode, model, optimizer, batch)[2])
        del model, optimizer
        self.free()
        speed = {mode: sum(tokens) / sum(seconds) for mode, seconds in times.items()}
        ratio = speed["ours"] / speed["obvious"]
        self.add({"model": label, "check": "step packed vs padded", "ok": True, "tokens_per_s": round(speed["ours"]),
                  "padded_tokens_per_s": round(speed["obvious"]), "ratio": ratio,
                  "target": TARGETS["packed_over_padded"] if label == "1b" else None,
                  "result": f"{ratio:.2f}x the padded step ({round(speed['obvious'])} tokens/s)"})

    def generation(self, label: str, model_dir: Path, vocab: int, size: dict) -> None:
        """Batched sampling with the hf provider; its recorded log-probs against a plain forward."""
        from tuna.llm import ProviderSpec, Request, RequestCache, make_provider

        spec = ProviderSpec(kind="hf", model=str(model_dir), device=self.device, batch_size=size["prompts"])
        provider = make_provider(spec, template="alpaca", cache=RequestCache(self.workdir / f"{label}_cache.sqlite"))
        generator = torch.Generator().manual_seed(2)
        requests = [Request(words(generator, vocab, 8, 40), n=1, temperature=1.0, max_tokens=size["new_tokens"],
                            seed=i) for i in range(size["prompts"])]
        self.synchronize()
        started = time.perf_counter()
        answers = provider.generate(requests)
        self.synchronize()
        seconds = time.perf_counter() - started
        produced = sum(c.n_tokens or 0 for candidates in answers for c in candidates)
        gaps = []
        for request, [candidate] in zip(requests, answers, strict=True):
            if candidate.logprobs:
                score = provider.score(provider.prompt(request.instruction), candidate.text)
                gaps.append(abs(score.logprob - sum(candidate.logprobs)) / max(score.n_tokens, 1))
        provider.close()
        self.free()
        gap = max(gaps) if gaps else float("inf")
        self.add({"model": label, "check": "hf generate (batched)", "ok": gap <= LOGPROB_TOLERANCE[self.precision],
                  "tokens_per_s": round(produced / seconds), "sequences": len(requests),
                  "logprob_gap_per_token": gap,
                  "result": f"{len(requests)} sequences; log-probs vs a plain forward: {gap:.2g}/token"})

    def proxy_ranker(self, label: str, model_dir: Path, data: Path, vocab: int, size: dict) -> None:
        """`tuna prm-train` steps on the backbone, then ranking samples with the trained PRM."""
        out = self.workdir / f"{label}_prm"
        args = ["--ranked", data, "--backbone", model_dir, "--template", "alpaca", "--batch-size", size["batch"],
                "--micro-batch-size", size["micro"], "--precision", self.precision, "--warmup-steps", "1",
                "--max-length", 512, "-o", out]
        failed = self.command(out.name, "tuna.cli.prm", args)
        if failed:
            return self.add({"model": label, "check": "prm train", "ok": False, "result": failed})
        stamp = json.loads((out / "provenance.json").read_text())
        log = stamp["log"]
        self.add({"model": label, "check": "prm train", "ok": all(row["loss"] == row["loss"] for row in log),
                  "tokens_per_s": round(statistics.median(row["tokens_per_s"] for row in (log[1:] or log))),
                  "peak_gib": stamp["peak GPU memory (GiB)"], "loss": log[-1]["loss"], "steps": len(log),
                  "result": f"pairwise loss {log[-1]['loss']:.4f} after {len(log)} steps"})

        from tuna.ranking.prm import PRM

        generator = torch.Generator().manual_seed(3)
        scale = size["scale"]
        instructions = {f"u{i}": Instruction(id=f"u{i}", instruction=words(generator, vocab, int(40 * scale) + 1,
                                                                           int(80 * scale) + 1))
                        for i in range(size["examples"])}
        samples = [Generation(id=key, model="m", candidates=[Candidate(text=words(generator, vocab, int(50 * scale) + 1,
                                                                                  int(250 * scale) + 1))
                                                             for _ in range(4)]) for key in instructions]
        prm = PRM.load(out, self.precision)
        self.synchronize()
        started = time.perf_counter()
        ranked, _ = prm.rank(instructions, samples, batch_size=size["batch"])
        self.synchronize()
        seconds = time.perf_counter() - started
        del prm
        shutil.rmtree(out)
        self.free()
        speed = round(4 * len(samples) / seconds)
        self.add({"model": label, "check": "prm rank (no grad)", "ok": len(ranked) == len(samples),
                  "responses_per_s": speed, "rankings": len(ranked),
                  "result": f"{speed} responses/s, {len(ranked)} rankings"})

    def synchronize(self) -> None:
        if self.device == "cuda":
            torch.cuda.synchronize()


def peak_flops(name: str) -> float | None:
    return next((peak for keys, peak in PEAKS if all(key in name for key in keys)), None)


def table(rows: list[dict]) -> str:
    def cell(row, key, form):
        value = row.get(key)
        return "" if value is None else form.format(value)

    lines = [f"{'model':5} {'check':28} {'tokens/s':>9} {'MFU':>6} {'peak GiB':>8}  result"]
    for row in rows:
        result = row["result"] + ("" if row["ok"] else "  FAILED")
        if row.get("target") is not None:
            value = row.get("mfu") if "mfu" in row else row.get("ratio")
            goal = f">= {row['target']:.0%}" if "mfu" in row else f">= {row['target']}x"
            result += f"  [target {goal}: {'met' if row.get('target_met') else 'MISSED' if value is not None else 'n/a'}]"
        lines.append(f"{row['model']:5} {row['check']:28} {cell(row, 'tokens_per_s', '{:>9}'):>9} "
                     f"{cell(row, 'mfu', '{:.1%}'):>6} {cell(row, 'peak_gib', '{:.1f}'):>8}  {result}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--tiny", action="store_true", help="only the tiny model (every path, in seconds)")
    parser.add_argument("--json", type=Path, help="also write the results here (default: printed after the table)")
    parser.add_argument("--workdir", type=Path, help="keep models, data and logs here (default: a temporary folder)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device is visible; run with --device cpu --tiny to check the code paths")
    name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    peak = peak_flops(name) if args.device == "cuda" else None
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gpu_check_"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    check = Check(args.device, workdir, peak)
    print(f"gpu_check on {name} (dense bf16 peak: {f'{peak / 1e12:.0f} TFLOP/s' if peak else 'unknown'}), "
          f"torch {torch.__version__}, work in {workdir}", file=sys.stderr)
    for label in ["tiny"] if args.tiny else ["tiny", "1b"]:
        check.run_model(label)
    for row in check.rows:  # the targets count on a GPU only
        if row.get("target") is not None and args.device == "cuda":
            value = row.get("mfu") if "mfu" in row else row.get("ratio")
            row["target_met"] = value is not None and value >= row["target"]
    failed = [row for row in check.rows if not row["ok"] or row.get("target_met") is False]
    result = {"device": name, "peak_tflops": peak and peak / 1e12, "torch": torch.__version__,
              "seconds": round(time.perf_counter() - started, 1), "rows": check.rows, "passed": not failed}
    print(table(check.rows))
    print(f"{len(check.rows) - len(failed)} of {len(check.rows)} checks passed in {result['seconds']:.0f} s"
          + ("" if not failed else "; failed: " + ", ".join(f"{r['model']} {r['check']}" for r in failed)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    else:
        print(json.dumps(result))
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
