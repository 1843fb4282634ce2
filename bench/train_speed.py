"""Training throughput against the hardware's FLOP limit, side by side in one process.

1. The machine's matmul throughput (2048x2048, on the threads in use) in each precision an arm computes
   in gives the FLOP-bound limit for training SmolLM2-135M: GFLOP/s / (6 x parameters) tokens/s.
2. The same GSM8K-train CoT examples (the first --examples rows of train.jsonl, never test), the same
   seed and the same number of optimizer steps, trained by:
     trl-default    a plain default TRL SFTTrainer (padded batches; TRL's default precision, bf16 autocast
                    with fp32 weights, even on a CPU without native bf16), the comparison arm
     trl-fp32       the same with bf16=False: plain TRL in fp32
     studio-padded  the app's trainer up to issue 22: compact head loss at once, padded rows
     studio         the app's trainer now: packed rows, head loss in chunks (backend.training.trainer)
     studio-compile the same with the trainer's compile=on (backend.training.compiling; compile time counted)
     studio-fused   the app's settings but TRL's own loss (its fused LM head: every position, fp32 on CPU)
     studio-random  the app's trainer, batches drawn at random (not grouped by length), packed
     studio-lora    the app's trainer with LoRA (r=16), the cheaper option
   Each reports non-padding tokens/s, its share of the limit in its precision, the peak resident memory
   of the process while it trained (sampled every 20 ms), and the per-step losses (studio-padded and
   studio see the same batches, so their losses must agree). tokens/s counts every step (a compile, a
   warm-up included); "after step 2" counts only the steps after the second, the rate a long run settles
   at, with the seconds the first two steps took beside it.

An arm may be named twice: alternate them (A,B,A,B). On a shared machine the order alone turned a 2.6x
lead into 0.7x (the later arm ran faster both ways round). Preload tcmalloc as the app's jobs do
(backend.jobs.allocator).
Run (short, on 2 cores):
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 OMP_NUM_THREADS=2 \
        .venv/bin/python bench/train_speed.py --examples 24 --steps 2 \
        --arms studio-padded,studio,studio-padded,studio,trl-default > /tmp/train_speed.md
"""

import argparse
import functools
import json
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRAIN_FILE = ROOT.parent / "shared" / "datasets" / "gsm8k" / "train.jsonl"


def gsm8k_train_examples(count: int) -> list[Any]:
    """CoT examples in the students' format from GSM8K *train* rows (annotations kept, as imported)."""
    from backend.student_formats import Example, cot_prompt

    examples = []
    for line in TRAIN_FILE.read_text().splitlines()[:count]:
        row = json.loads(line)
        body, answer = row["answer"].split("####")
        steps = " ".join(re.sub(r"\s+", " ", body).split())
        examples.append(Example(cot_prompt(row["question"]), f" {steps} So the answer is: {answer.strip()}"))
    return examples


def _peak_rss(stop: threading.Event, peak: list[int]) -> None:
    """Keep peak[0] at the largest resident set size (bytes) seen until `stop` is set."""
    import os

    page = os.sysconf("SC_PAGE_SIZE")
    while not stop.wait(0.02):
        with open("/proc/self/statm") as statm:
            peak[0] = max(peak[0], int(statm.read().split()[1]) * page)


def _trl_default(
    model_path: str, examples: list[Any], steps: int, batch_size: int, out: Path, bf16: bool | None = None
) -> Any:
    """A plain TRL SFTTrainer; `bf16` None keeps TRL's default (bf16 autocast)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from backend.training.data import to_dataset

    args = SFTConfig(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=batch_size, learning_rate=1e-4,
        logging_steps=1, report_to="none", disable_tqdm=True, use_cpu=True, save_strategy="no", seed=0,
        include_num_input_tokens_seen="non_padding", **({} if bf16 is None else {"bf16": bf16}),
    )  # fmt: skip
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    return SFTTrainer(model=model, args=args, train_dataset=to_dataset(examples), processing_class=tokenizer)


def _studio(name: str, model_path: str, examples: list[Any], steps: int, batch_size: int, out: Path) -> Any:
    from trl import SFTTrainer

    from backend.training.compiling import CompileWhenItPays
    from backend.training.config import CompileMode, TrainConfig
    from backend.training.trainer import FAST_PATH, PADDED_PATH, _causal_trainer, _common_arguments

    config = TrainConfig(
        set_id=0, max_steps=steps, batch_size=batch_size, learning_rate=1e-4, warmup=0.0,
        lora=name == "studio-lora",
    )  # fmt: skip
    arguments = _common_arguments(config, out, "cpu", _bf16())
    if name == "studio-random":
        arguments["train_sampling_strategy"] = "random"
    path = PADDED_PATH if name in ("studio-padded", "studio-fused") else FAST_PATH
    compiled = CompileMode.on if name == "studio-compile" else CompileMode.off  # as TrainConfig.compile=on
    callbacks = [CompileWhenItPays(compiled, "cpu")]
    trainer = _causal_trainer(config, model_path, examples, arguments, callbacks, path=path)
    if name == "studio-fused":  # TRL's compute_loss in place of backend.training.compact_head's
        trainer.compute_loss = functools.partial(SFTTrainer.compute_loss, trainer)
    return trainer


def _limit(precision: str, size: int = 2048, parameters: float = 134.5e6) -> float:
    """FLOP-bound training tokens/s: the best of five (size x size) matmuls in `precision`, over 6 x
    parameters FLOPs per token. Only the precisions the arms use are timed: bf16 on an AVX2-only CPU is
    slow enough (no native kernel) that timing it at this size takes minutes."""
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    torch.mm(a, b)  # warm-up: kernel selection, page faults
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    gflops = 2 * size**3 / best / 1e9
    limit = gflops * 1e9 / (6 * parameters)
    print(f"matmul {size}^2 {precision} on {torch.get_num_threads()} threads: {gflops:.0f} GFLOP/s, "
          f"FLOP-bound training limit {limit:.0f} tokens/s", flush=True)  # fmt: skip
    return limit


def _share(rate: float | None, limit: float | None) -> str:
    return f"{rate / limit:.0%}" if rate and limit else "-"


def _bf16() -> bool:
    from backend.training.trainer import pick_device

    return pick_device("cpu")[1]


def train_arm(name: str, examples: list[Any], steps: int, batch_size: int) -> dict[str, Any]:
    import gc

    from backend.teacher.default_model import prepare_default_model

    gc.collect()  # the previous arm's model and trainer

    model_path = str(prepare_default_model())
    out = Path("/tmp/train-speed") / name
    if name in ("trl-default", "trl-fp32"):
        bf16 = False if name == "trl-fp32" else None
        trainer = _trl_default(model_path, examples, steps, batch_size, out, bf16)
        precision = "bf16" if trainer.args.bf16 else "fp32"  # TRL's own default, whatever the CPU
    else:
        trainer = _studio(name, model_path, examples, steps, batch_size, out)
        precision = "bf16" if _bf16() else "fp32"
    stop, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_peak_rss, args=(stop, peak), daemon=True)
    sampler.start()
    clock = step_clock()
    trainer.add_callback(clock)
    started = time.monotonic()
    clock.marks.append((started, 0))
    trainer.train()
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    tokens = int(trainer.state.num_input_tokens_seen)
    losses = [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h]
    return {"arm": name, "precision": precision, "tokens": tokens, "seconds": round(seconds, 1),
            "tokens_per_s": round(tokens / seconds, 1), **clock.after(2),
            "peak_gb": round(peak[0] / 2**30, 2), "losses": losses}  # fmt: skip


def step_clock() -> Any:
    """A TrainerCallback that notes (time, tokens seen) at the end of every optimizer step; `after(k)`
    gives the seconds of the first k steps and the rate after them."""
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self) -> None:
            self.marks: list[tuple[float, int]] = []

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.marks.append((time.monotonic(), int(state.num_input_tokens_seen)))

        def after(self, warmup: int) -> dict[str, Any]:
            if len(self.marks) <= warmup + 1:
                return {"first_steps_s": None, "tokens_per_s_after": None}
            (t0, _), (t1, n1), (t2, n2) = self.marks[0], self.marks[warmup], self.marks[-1]
            rate = round((n2 - n1) / (t2 - t1), 1)
            return {"first_steps_s": round(t1 - t0, 1), "tokens_per_s_after": rate}

    return StepClock()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--arms", default="trl-default,studio-padded,studio")
    parser.add_argument(
        "--limits-only", action="store_true", help="print the limits and stop (for a run timed elsewhere)"
    )
    args = parser.parse_args()
    limits = {precision: _limit(precision) for precision in (["fp32", "bf16"] if _bf16() else ["fp32"])}
    if args.limits_only:
        return 0
    examples = gsm8k_train_examples(args.examples)
    print("| arm | precision | tokens | seconds | tokens/s | of the limit | first 2 steps s | tokens/s after "
          "step 2 | of the limit | peak RSS GB | losses per step |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for arm in args.arms.split(","):
        r = train_arm(arm, examples, args.steps, args.batch_size)
        limit, after = limits.get(r["precision"]), r["tokens_per_s_after"]  # bf16 untimed without native bf16
        print(f"| {r['arm']} | {r['precision']} | {r['tokens']} | {r['seconds']} | {r['tokens_per_s']} | "
              f"{_share(r['tokens_per_s'], limit)} | {r['first_steps_s']} | {after} | "
              f"{_share(after, limit)} | {r['peak_gb']} | {r['losses']} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
