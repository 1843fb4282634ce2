"""Training throughput against the hardware's FLOP limit, side by side in one process.

1. The machine's matmul throughput in fp32 and bf16 on the threads in use (backend.precision's probe,
   at 2048x2048) gives the FLOP-bound limit for training SmolLM2-135M: peak / (6 x parameters) tokens/s.
2. The same GSM8K-train CoT examples (the first --examples rows of train.jsonl, never test), the same
   seed and the same number of optimizer steps, trained by:
     trl-default   a plain default TRL SFTTrainer (fp32, padded batches), the comparison arm
     studio        the app's trainer settings (backend.training.trainer: precision from the probe, ...)
     studio-fused  the app's settings but TRL's own loss (its fused LM head: every position, fp32 on CPU)
     studio-random the app's settings but batches drawn at random (the default sampler), not grouped by
                   length: what length grouping saves in padding
     studio-lora   the same with LoRA (r=16), the cheaper option
   Each reports non-padding tokens/s and its fraction of the limit of the faster precision, and the
   per-step losses (a bf16 run must track the fp32 one).

Run (about 10 minutes on 2 cores; keep the machine otherwise idle):
    OMP_NUM_THREADS=2 .venv/bin/python bench/train_speed.py --examples 64 --steps 8 > /tmp/train_speed.md
"""

import argparse
import functools
import json
import re
import sys
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


def train_arm(name: str, examples: list[Any], steps: int, batch_size: int) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from backend.teacher.default_model import prepare_default_model
    from backend.training.config import TrainConfig
    from backend.training.data import to_dataset
    from backend.training.trainer import _causal_trainer, _common_arguments, pick_device

    model_path = str(prepare_default_model())
    out = Path("/tmp/train-speed") / name
    if name == "trl-default":
        args = SFTConfig(
            output_dir=str(out), max_steps=steps, per_device_train_batch_size=batch_size, learning_rate=1e-4,
            logging_steps=1, report_to="none", disable_tqdm=True, use_cpu=True, save_strategy="no", seed=0,
            include_num_input_tokens_seen="non_padding",
        )  # fmt: skip
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        trainer = SFTTrainer(
            model=model, args=args, train_dataset=to_dataset(examples), processing_class=tokenizer
        )
        precision = "fp32"
    else:
        config = TrainConfig(
            set_id=0,
            max_steps=steps,
            batch_size=batch_size,
            learning_rate=1e-4,
            warmup=0.0,
            lora=name == "studio-lora",
        )
        device, bf16 = pick_device("cpu")
        arguments = _common_arguments(config, out, device, bf16)
        if name == "studio-random":
            arguments["train_sampling_strategy"] = "random"
        trainer = _causal_trainer(config, model_path, examples, arguments, [])
        if name == "studio-fused":  # TRL's compute_loss in place of backend.training.compact_head's
            trainer.compute_loss = functools.partial(SFTTrainer.compute_loss, trainer)
        precision = "bf16 autocast" if bf16 else "fp32"
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    tokens = int(trainer.state.num_input_tokens_seen)
    losses = [round(h["loss"], 3) for h in trainer.state.log_history if "loss" in h]
    return {"arm": name, "precision": precision, "tokens": tokens, "seconds": round(seconds, 1),
            "tokens_per_s": round(tokens / seconds, 1), "losses": losses}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--arms", default="trl-default,studio-random,studio,studio-lora")
    args = parser.parse_args()
    from backend.precision import probe_matmul

    # The best of three: a single probe at process start has read half the steady rate on this machine.
    probe = max((probe_matmul(size=2048) for _ in range(3)), key=lambda p: p.bf16_gflops)
    parameters = 134.5e6
    limits = {
        "fp32": probe.fp32_gflops * 1e9 / (6 * parameters),
        "bf16": probe.bf16_gflops * 1e9 / (6 * parameters),
    }
    best = max(limits.values())
    print(f"matmul 2048^2 on {probe.threads} threads: fp32 {probe.fp32_gflops:.0f} GFLOP/s, "
          f"bf16 {probe.bf16_gflops:.0f} GFLOP/s; FLOP-bound training limit fp32 {limits['fp32']:.0f} tok/s, "
          f"bf16 {limits['bf16']:.0f} tok/s")  # fmt: skip
    examples = gsm8k_train_examples(args.examples)
    print("| arm | precision | tokens | seconds | tokens/s | of the limit | losses per step |")
    print("|---|---|---|---|---|---|---|")
    for arm in args.arms.split(","):
        r = train_arm(arm, examples, args.steps, args.batch_size)
        print(f"| {r['arm']} | {r['precision']} | {r['tokens']} | {r['seconds']} | {r['tokens_per_s']} | "
              f"{r['tokens_per_s'] / best:.0%} | {r['losses']} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
