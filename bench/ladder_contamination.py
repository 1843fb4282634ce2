"""A ladder run's GSM8K rows restated on the clean subset: the GSM8K test problems the app's contamination
check (its rule of today) does not flag against the run's training problems, with 95% Wilson intervals and
exact McNemar tests on the same clean problems.

A `cpu` run trained on gsm_symbolic problems, regenerated here from the training seed with reasoning-gym.
`gsm8k-cpu` runs trained on the first `n_train` GSM8K train problems: several of their files can be given
at once (e.g. every seed of CoT and answer-only), aligned by each problem's place in GSM8K test, and every
pair of their arms is tested on the clean problems.

Run (seconds; reads GSM8K from ../shared/datasets or $SOCRATIC_DATASETS):
    .venv/bin/python bench/ladder_contamination.py docs/ladder-results/cpu-run9.json [--seed 1]
    .venv/bin/python bench/ladder_contamination.py docs/ladder-results/gsm8k-cpu-run5-7373-seed1.json \
        docs/ladder-results/gsm8k-cpu-run5-7373-answer-only-seed1.json

Problem ids in the results file are the run's database ids, in import order: the gsm_symbolic pool
(config.pool items, ids 1..pool), the held-out gsm_symbolic items (2 x n_eval_symbolic), then GSM8K test
in file order. The training problems are the run's "train" split, a subset of the pool.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.evaluation.contamination import OverlapIndex  # noqa: E402
from backend.evaluation.stats import mcnemar_exact, wilson_interval  # noqa: E402
from bench.contamination_calibration import DATASETS, questions  # noqa: E402
from bench.ladder_presets import GSM8K_TEST, TRAIN_SEED  # noqa: E402

GSM8K = "gsm8k_test"


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
    test = questions(DATASETS / GSM8K_TEST)
    evaluated = {int(problem_id) for problem_id in results["splits"][GSM8K]}
    assert max(evaluated) < first_gsm8k_id + len(test), "the id layout does not match this results file"
    index, pool_index = OverlapIndex(trained), OverlapIndex(pool)
    flagged = {first_gsm8k_id + row for row, q in enumerate(test) if index.overlap(q).seen()}
    pool_flagged = sum(pool_index.overlap(q).seen() for q in test)
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


def gsm8k_trained(paths: list[Path]) -> None:
    """`gsm8k-cpu` runs: GSM8K test flagged against their first n_train GSM8K train problems, then each
    arm's whole and clean accuracy, and every pair of arms on the clean problems."""
    runs = [json.loads(path.read_text()) for path in paths]
    sizes = {run["config"]["n_train"] for run in runs}
    if len(sizes) != 1:
        raise SystemExit(f"these runs trained on different numbers of GSM8K train problems: {sorted(sizes)}")
    n_train = sizes.pop()
    index = OverlapIndex(questions(DATASETS / "gsm8k" / "train.jsonl")[:n_train])
    test = questions(DATASETS / GSM8K_TEST)
    flagged = {row for row, question in enumerate(test) if index.overlap(question).seen()}
    clean = [row for row in range(len(test)) if row not in flagged]
    print(f"{n_train} GSM8K train problems: {len(flagged)} of GSM8K test's {len(test)} flagged (rows "
          f"{sorted(flagged)}), {len(clean)} clean")  # fmt: skip
    arms: dict[str, list[bool]] = {}
    for path, run in zip(paths, runs, strict=True):
        for result in run["results"]:
            per = result["per_problem"]
            if result["dataset"] == GSM8K and result["calculator"] and len(per) == len(test):
                arm = f"{result['arm']} seed {result.get('seed', 0)} ({path.stem})"
                arms[arm] = [bool(per[key]) for key in sorted(per, key=int)]  # ids in GSM8K test's order
    for arm, graded in arms.items():
        right = sum(graded[row] for row in clean)
        interval = wilson_interval(right, len(clean))
        print(f"  {arm}: clean {right}/{len(clean)} ({right / len(clean):.1%}, {interval.low:.1%}-"
              f"{interval.high:.1%}); whole {sum(graded)}/{len(test)}")  # fmt: skip
    for (first, a), (second, b) in combinations(arms.items(), 2):
        paired = mcnemar_exact([a[row] for row in clean], [b[row] for row in clean])
        print(f"  {first} vs {second}: +{paired.only_a}/-{paired.only_b}, p = {paired.p_value:.2g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+", help="ladder results files (docs/ladder-results)")
    parser.add_argument("--seed", type=int, default=TRAIN_SEED, help="a cpu run's training seed")
    args = parser.parse_args()
    first = json.loads(args.results[0].read_text())
    if first["config"].get("train_source", "gsm_symbolic") != "gsm_symbolic":
        gsm8k_trained(args.results)
        return
    if len(args.results) > 1:
        raise SystemExit("give one gsm_symbolic-trained run at a time")
    results = first
    flags = flagged_ids(results, args.seed)
    n_run = len(results["splits"][GSM8K])
    name, pool = args.results[0].name, results["config"]["pool"]
    print(f"{name}: {flags.trained} gsm_symbolic training problems (seed {args.seed}, pool of {pool}). "
          f"Flagged: {flags.all_test} of all GSM8K test ({flags.pool_all_test} against the whole pool), "
          f"{len(flags.evaluated)} of the run's {n_run}.")  # fmt: skip
    print("McNemar cells: problems only this arm got right : only the other arm (clean subset, exact test)\n")
    print("\n".join(table(results, flags.evaluated)))


if __name__ == "__main__":
    main()
