"""Replay the loop rule (backend.teacher.loops) on a ladder run's saved outputs: how early it would have
ended which texts, for several settings, before any of them is used in an evaluation.

Each saved text is tokenized again with the student's tokenizer (the embedded SmolLM2's, which every
`gsm8k-cpu` student keeps) and the rule is asked after each token, as the refilling loop asks it. Per
setting: the texts it ends, of which how many had no answer (they ran to their budget) and how many
had one, and of those how many were correct (a correct text ended early is an answer lost); and the share
of all generated tokens it saves. Token positions are those of the re-tokenized text, so the figures are
close to, not exactly, what a live run does (the calculator's rewinds are not replayed).

    .venv/bin/python bench/loop_replay.py docs/ladder-results/gsm8k-cpu-run4-7373.json \
        docs/ladder-results/gsm8k-cpu-run3-3600.json --arm cot --seed 0
"""

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.teacher.loops import LoopRule, number_token_ids  # noqa: E402
from bench.ladder_report import row_key  # noqa: E402


def saved_outputs(results_file: Path, arm: str, seed: int, dataset: str) -> list[dict[str, Any]]:
    """The outputs of the arm's calculator-on evaluation of `dataset` in a ladder results file."""
    results = json.loads(results_file.read_text())["results"]
    for result in results:
        if row_key(result) == (arm, dataset, True, seed) and "outputs" in result:
            return list(result["outputs"].values())
    raise SystemExit(f"{results_file} has no saved outputs of {arm} seed {seed} on {dataset}")


def first_loop(rule: LoopRule, collapsed: list[int]) -> int | None:
    """The length of the shortest prefix the rule calls a loop (in collapsed tokens), or None."""
    return next((end for end in range(1, len(collapsed) + 1) if rule.loops_at(collapsed, end)), None)


def replay(rule: LoopRule, texts: list[tuple[list[int], bool, bool]]) -> dict[str, Any]:
    ended = unanswered = answered = correct = 0
    saved = 0.0
    for ids, has_answer, is_correct in texts:
        collapsed = rule.collapsed(ids)
        end = first_loop(rule, collapsed)
        if end is None:
            continue
        ended += 1
        saved += len(ids) * (1 - end / len(collapsed))
        answered += has_answer
        correct += is_correct
        unanswered += not has_answer
    total = sum(len(ids) for ids, _, _ in texts)
    return {"ended": ended, "unanswered": unanswered, "answered": answered, "correct": correct,
            "tokens_saved": round(saved / total, 3)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, nargs="+", help="ladder results files with saved outputs")
    parser.add_argument("--arm", default="cot")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset", default="gsm8k_test")
    parser.add_argument("--copies", default="2,3,4")
    parser.add_argument("--min-tokens", default="16,32,64")
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer

    from backend.teacher.default_model import prepare_default_model

    tokenizer = AutoTokenizer.from_pretrained(str(prepare_default_model()))
    numbers = number_token_ids(tokenizer)
    settings = list(itertools.product(
        [int(c) for c in args.copies.split(",")], [int(m) for m in args.min_tokens.split(",")]
    ))  # fmt: skip
    print("| run | texts | without an answer | copies | min tokens | ended | of them unanswered | answered "
          "| answered correctly | tokens saved |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for results_file in args.results:
        outputs = saved_outputs(results_file, args.arm, args.seed, args.dataset)
        texts = [(tokenizer(o["text"])["input_ids"], o.get("answer") is not None, bool(o["correct"]))
                 for o in outputs]  # fmt: skip
        missing = sum(not has_answer for _, has_answer, _ in texts)
        for copies, min_tokens in settings:
            r = replay(LoopRule(numbers, copies=copies, min_tokens=min_tokens), texts)
            print(f"| {results_file.name} | {len(texts)} | {missing} | {copies} | {min_tokens} | "
                  f"{r['ended']} | {r['unanswered']} | {r['answered']} | {r['correct']} | "
                  f"{r['tokens_saved']:.0%} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
