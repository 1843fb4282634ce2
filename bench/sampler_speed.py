"""The sampler's cost per decoding step, the app's batched draw beside a generator-per-row multinomial.

A sampled decoding step ends with one token drawn per running row from its own seeded generator
(backend.teacher.sampling). `torch.multinomial` takes one generator per call, so it has to run once per
row; `draw` takes one uniform number per row and searches the whole batch at once. Both run here on the
same logits (random, SmolLM2's vocabulary size unless `--vocab`), alternated A, B, B, A per size so a
drift in the machine's speed falls on both, and the best of `--repeats` steps is kept for each.

And the nucleus (`top_p_filter` at top_p 0.95: the likeliest 1,024 tokens looked at first) beside a sort
of every token, the way it was cut before; both must give the same probabilities.

Also checked on the same logits: both draw from the same distribution (the share of rows whose token
lies in the top-10 of its row, over many steps, which sampling from the same distribution makes equal up
to noise).

    OMP_NUM_THREADS=2 .venv/bin/python bench/sampler_speed.py --rows 16,64 --out /tmp/sampler.json
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generation_speed import machine  # noqa: E402

SMOLLM2_VOCABULARY = 49_152
TOP_P = 0.95


def per_row_multinomial(probs: Any, generators: list[Any]) -> Any:
    """The draw the app used before `draw`: one `torch.multinomial` call per row, each with its generator."""
    import torch

    return torch.stack(
        [
            torch.multinomial(row, 1, generator=generator)[0]
            for row, generator in zip(probs, generators, strict=True)
        ]
    )


def nucleus_step(cut: Callable[[Any, float], Any], probs: Any, generators: list[Any]) -> Any:
    """One step's nucleus cut, on a copy (the cut writes into the tensor it is given)."""
    return cut(probs.clone(), TOP_P)


def best_ms(
    sampler: Callable[[Any, list[Any]], Any], probs: Any, generators: list[Any], repeats: int
) -> float:
    sampler(probs, generators)  # warm-up: first calls allocate
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sampler(probs, generators)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def top10_share(sampler: Callable[[Any, list[Any]], Any], probs: Any, steps: int, seed: int) -> float:
    import torch

    top = probs.topk(10, dim=-1).indices
    hits = 0
    for step in range(steps):
        generators = [
            torch.Generator().manual_seed(seed * 100_003 + step * 1_009 + row) for row in range(len(probs))
        ]
        tokens = sampler(probs, generators)
        hits += int((top == tokens[:, None]).any(dim=-1).sum())
    return hits / (steps * len(probs))


def measure(rows: int, vocab: int, repeats: int) -> dict[str, Any]:
    import torch

    from backend.teacher.sampling import draw, full_sort_nucleus, top_p_filter

    torch.manual_seed(rows)
    # Peaked like a language model's next-token distribution at T = 0.7: most mass on a few tokens.
    probs = torch.softmax(torch.randn(rows, vocab) * 4 / 0.7, dim=-1)
    generators = [torch.Generator().manual_seed(row) for row in range(rows)]
    order = [("draw", draw), ("multinomial", per_row_multinomial)]
    runs: dict[str, list[float]] = {"draw": [], "multinomial": []}
    for name, sampler in [*order, *reversed(order)]:
        runs[name].append(best_ms(sampler, probs, generators, repeats))
    result: dict[str, Any] = {name: round(min(values), 2) for name, values in runs.items()}
    result["rows"] = rows
    result["speedup"] = round(result["multinomial"] / result["draw"], 1)
    nucleus = [("top_p_filter", top_p_filter), ("full_sort", full_sort_nucleus)]
    for name, cut in [*nucleus, *reversed(nucleus)]:
        timed = best_ms(partial(nucleus_step, cut), probs, generators, max(1, repeats // 4))
        result[f"nucleus_{name}"] = round(min(result.get(f"nucleus_{name}", timed), timed), 2)
    result["nucleus_equal"] = bool(
        torch.equal(top_p_filter(probs.clone(), TOP_P), full_sort_nucleus(probs.clone(), TOP_P))
    )
    result["top10_share"] = {
        "draw": round(top10_share(draw, probs, 50, 1), 4),
        "multinomial": round(top10_share(per_row_multinomial, probs, 50, 1), 4),
    }
    return result


def main(argv: list[str] | None = None) -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="16,64", help="comma-separated batch sizes (running rows)")
    p.add_argument("--vocab", type=int, default=SMOLLM2_VOCABULARY)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", type=Path, help="write the results here as JSON")
    args = p.parse_args(argv)
    sizes = [int(value) for value in args.rows.split(",")]
    report = {
        "machine": machine(),
        "threads": torch.get_num_threads(),
        "vocab": args.vocab,
        "results": [measure(rows, args.vocab, args.repeats) for rows in sizes],
    }
    for result in report["results"]:
        print(
            f"{result['rows']:>4} rows: draw {result['draw']} ms, per-row multinomial "
            f"{result['multinomial']} ms ({result['speedup']}x); top-10 share {result['top10_share']}; "
            f"nucleus (top_p {TOP_P}) {result['nucleus_top_p_filter']} ms against a full sort "
            f"{result['nucleus_full_sort']} ms, equal: {result['nucleus_equal']}"
        )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
