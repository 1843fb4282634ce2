"""A ladder run's GSM8K rows restated on the clean subset: the GSM8K test problems the app's contamination
check does not flag against the run's gsm_symbolic training problems (regenerated from the training seed
with reasoning-gym), with 95% Wilson intervals and exact McNemar tests on the same clean problems.

Run (seconds; reads GSM8K test from ../shared/datasets or $SOCRATIC_DATASETS):
    .venv/bin/python bench/ladder_contamination.py docs/ladder-results/cpu-run9.json [--seed 1]

Problem ids in the results file are the run's database ids, in import order: the gsm_symbolic pool
(config.pool items, ids 1..pool), the held-out gsm_symbolic items (2 x n_eval_symbolic), then GSM8K test
in file order. The training problems are the run's "train" split, a subset of the pool.
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.evaluation.contamination import THRESHOLD, OverlapIndex  # noqa: E402
from backend.evaluation.stats import mcnemar_exact, wilson_interval  # noqa: E402
from bench.ladder_presets import GSM8K_TEST, TRAIN_SEED  # noqa: E402

DATASETS = Path(os.environ.get("SOCRATIC_DATASETS", ROOT.parent / "shared" / "datasets"))
GSM8K = "gsm8k_test"


def gsm8k_questions() -> list[str]:
    with (DATASETS / GSM8K_TEST).open() as lines:
        return [json.loads(line)["question"] for line in lines if line.strip()]


@dataclass
class Flags:
    evaluated: set[int]  # the run's GSM8K problem ids flagged against its training problems
    all_test: int  # flagged among all of GSM8K test
    pool_all_test: int  # flagged among all of GSM8K test against the whole generated pool
    trained: int  # training problems compared with


def flagged_ids(results: dict[str, Any], seed: int) -> Flags:
    """The run's training problems are the pool items it trained on (curated out of the pool); the whole
    pool is counted too, for comparison with figures measured against the pool."""
    import reasoning_gym

    config = results["config"]
    pool = [
        item["question"]
        for item in reasoning_gym.create_dataset("gsm_symbolic", size=config["pool"], seed=seed)
    ]
    trained = [pool[problem_id - 1] for problem_id in results["splits"]["train"]]
    first_gsm8k_id = config["pool"] + 2 * config["n_eval_symbolic"] + 1
    test = gsm8k_questions()
    evaluated = {int(problem_id) for problem_id in results["splits"][GSM8K]}
    assert max(evaluated) < first_gsm8k_id + len(test), "the id layout does not match this results file"
    index, pool_index = OverlapIndex(trained), OverlapIndex(pool)
    flagged = {first_gsm8k_id + row for row, q in enumerate(test) if index.overlap(q).share >= THRESHOLD}
    pool_flagged = sum(pool_index.overlap(q).share >= THRESHOLD for q in test)
    return Flags(flagged & evaluated, len(flagged), pool_flagged, len(trained))


def _paired(a: dict[str, bool], b: dict[str, bool], ids: list[str]) -> str:
    test = mcnemar_exact([a[i] for i in ids], [b[i] for i in ids])
    return f"{test.only_a}:{test.only_b} p={test.p_value:.3g}"


def table(results: dict[str, Any], flagged: set[int]) -> list[str]:
    arms = {r["arm"]: r["per_problem"] for r in results["results"] if r["dataset"] == GSM8K}
    ids = sorted(next(iter(arms.values())), key=int)
    clean = [i for i in ids if int(i) not in flagged]
    seen = [i for i in ids if int(i) in flagged]
    lines = [
        f"| arm | whole ({len(ids)}) | seen in training ({len(seen)}) | clean ({len(clean)}) | clean 95% CI "
        "| clean vs floor | clean vs answer_only |",
        "|---|---|---|---|---|---|---|",
    ]
    for arm, per in arms.items():
        whole, on_seen, on_clean = (sum(per[i] for i in part) for part in (ids, seen, clean))
        interval = wilson_interval(on_clean, len(clean))
        versus = [
            _paired(per, arms[other], clean) if other in arms and other != arm else "-"
            for other in ("floor", "answer_only")
        ]
        lines.append(
            f"| {arm} | {whole}/{len(ids)} ({whole / len(ids):.1%}) | {on_seen}/{len(seen)} | "
            f"{on_clean}/{len(clean)} ({on_clean / len(clean):.1%}) | {interval.low:.1%}-{interval.high:.1%} "
            f"| {versus[0]} | {versus[1]} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a ladder results file (docs/ladder-results/*.json)")
    parser.add_argument("--seed", type=int, default=TRAIN_SEED, help="the run's reasoning-gym training seed")
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    if results["config"].get("train_source", "gsm_symbolic") != "gsm_symbolic":
        raise SystemExit("this run trained on GSM8K train: its GSM8K test rows need no restating")
    flags = flagged_ids(results, args.seed)
    n_run = len(results["splits"][GSM8K])
    print(f"{args.results.name}: {flags.trained} gsm_symbolic training problems (seed {args.seed}, pool of "
          f"{results['config']['pool']}). Flagged: {flags.all_test} of all GSM8K test ({flags.pool_all_test} "
          f"against the whole pool), {len(flags.evaluated)} of the run's {n_run}.")  # fmt: skip
    print("McNemar cells: problems only this arm got right : only the other arm (clean subset, exact test)\n")
    print("\n".join(table(results, flags.evaluated)))


if __name__ == "__main__":
    main()
