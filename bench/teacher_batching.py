"""Transformers backend batched against a one-prompt-at-a-time loop, SmolLM2 on CPU, same prompts.

Run (2-core CPU):
    OMP_NUM_THREADS=1 .venv/bin/python bench/teacher_batching.py --prompts 16 --max-tokens 64

Greedy cot prompts for reasoning-gym gsm_symbolic questions; "short" uses one few-shot example (decoding
dominates), "5-shot" the default five (reading the long prompt dominates). Greedy outputs are the same
either way, so the speed-up is a ratio of wall times. A batch runs until its longest output ends, so a
last row forces every output to the same length to show what batching gives without that wait.
"""

import argparse
import time

import reasoning_gym

from backend.model_ref import open_backend
from backend.student_formats import cot_prompt
from backend.teacher.base import GenerationParams
from backend.teacher.prompts import default_few_shot, render_prompt
from backend.teacher.transformers_backend import TransformersBackend


def tokens_per_second(teacher: TransformersBackend, prompts: list[str], params: GenerationParams) -> float:
    started = time.perf_counter()
    results = teacher.generate(prompts, params)
    return sum(samples[0].tokens_out for samples in results) / (time.perf_counter() - started)


def compare(
    teacher: TransformersBackend, prompts: list[str], params: GenerationParams
) -> tuple[float, float]:
    teacher.batch_size = len(prompts)
    batched = tokens_per_second(teacher, prompts, params)
    teacher.batch_size = 1
    alone = tokens_per_second(teacher, prompts, params)
    return batched, alone


def equal_length(teacher: TransformersBackend, prompts: list[str], tokens: int) -> tuple[float, float]:
    """The same model call with every output forced to `tokens` tokens (min_new_tokens): what batching
    gains when no finished sequence waits for a longer one."""
    import torch

    def rate(batch: list[str]) -> float:
        encoded = teacher.tokenizer(batch, return_tensors="pt", padding=True)
        started = time.perf_counter()
        with torch.inference_mode():
            teacher.lm.generate(**encoded, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        return len(batch) * tokens / (time.perf_counter() - started)

    batched = rate(prompts)
    alone = len(prompts) * tokens / sum(tokens / rate([prompt]) for prompt in prompts)
    return batched, alone


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--shots", default="1", help="few-shot counts to measure, e.g. 0,1,5")
    args = parser.parse_args()
    questions = [
        item["question"] for item in reasoning_gym.create_dataset("gsm_symbolic", size=args.prompts, seed=7)
    ]
    teacher = open_backend("transformers", "default")
    assert isinstance(teacher, TransformersBackend)
    params = GenerationParams(max_tokens=args.max_tokens, stop=["\n\n", "\nQuestion:"])
    teacher.generate(questions[:2], GenerationParams(max_tokens=4))  # warm-up
    print(f"{args.prompts} prompts, greedy, max {args.max_tokens} tokens")
    print("| prompts | prompt tokens (mean) | batched tok/s | one at a time tok/s | speed-up |")
    print("|---|---|---|---|---|")
    for shots in (int(value) for value in args.shots.split(",")):
        examples = default_few_shot()[:shots]
        prompts = [render_prompt("cot", question=question, few_shot=examples) for question in questions]
        length = sum(len(teacher.tokenizer(prompt)["input_ids"]) for prompt in prompts) / len(prompts)
        batched, alone = compare(teacher, prompts, params)
        print(
            f"| {shots}-shot cot | {length:.0f} | {batched:.1f} | {alone:.1f} | {batched / alone:.1f}x |",
            flush=True,
        )
    short = [cot_prompt(question) for question in questions]
    length = sum(len(teacher.tokenizer(prompt)["input_ids"]) for prompt in short) / len(short)
    batched, alone = equal_length(teacher, short, args.max_tokens)
    print(
        f"| equal-length outputs, Q/A prompt | {length:.0f} | {batched:.1f} | {alone:.1f} | "
        f"{batched / alone:.1f}x |"
    )


if __name__ == "__main__":
    main()
