"""The ladder's statistics and table: accuracy with a 95% Wilson interval, exact McNemar p-values against
the CoT arm, answer-only and the floor (paired on the same problems of the same evaluation set).

Re-render a finished run:  .venv/bin/python bench/ladder_report.py /tmp/ladder/results.json
Compare two runs, arm by arm, paired on the same problems (a rerun of the same students with new code):
    .venv/bin/python bench/ladder_report.py /tmp/ladder/results-run5.json --against results-run3.json
Join a second seed trained alone to the run it repeats (same preset and data; the first run's rows win):
    .venv/bin/python bench/ladder_report.py results-run3.json --merge /work/runs/gsm8k-s1/results.json
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _paired(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[bool], list[bool]]:
    shared = sorted(set(a["per_problem"]) & set(b["per_problem"]), key=int)
    return [a["per_problem"][p] for p in shared], [b["per_problem"][p] for p in shared]


def aligned(
    row: dict[str, Any], theirs: dict[str, list[int]], ours: dict[str, list[int]]
) -> dict[str, Any] | None:
    """Another run's evaluation with its problems under this run's ids. Both runs build a set the same way
    (GSM8K test and SVAMP in file order, gsm_symbolic from the same generator seed), so the i-th problem
    of a set is the same problem in both, whatever id the import gave it: a set imported before it in one
    run shifts every id. None where the set differs in size between the runs (then position i is not
    the same problem) or one run lacks it. A clean subset is read by its parent set's positions."""
    parent = row["dataset"].removesuffix("_clean")
    if parent not in theirs or parent not in ours or len(theirs[parent]) != len(ours[parent]):
        return None
    to_ours = {str(a): str(b) for a, b in zip(theirs[parent], ours[parent], strict=True)}
    moved = row | {"per_problem": {to_ours[p]: ok for p, ok in row["per_problem"].items() if p in to_ours}}
    if "outputs" in row:
        moved["outputs"] = {to_ours[p]: out for p, out in row["outputs"].items() if p in to_ours}
    return moved


def row_key(row: dict[str, Any]) -> tuple[str, str, bool, int]:
    """An evaluation's identity: arm, set, calculator on or off, training seed (older runs: on, 0)."""
    return (row["arm"], row["dataset"], row.get("calculator", True), row.get("seed", 0))


def _references(arm: str, dataset: str, calculator: bool, seed: int) -> dict[str, tuple[str, str, bool, int]]:
    """The rows an evaluation is tested against: CoT at its seed (a second CoT seed: against the first),
    answer-only at the first seed, the floor (calculator on, its only setting)."""
    cot_seed = 0 if arm == "cot" else seed
    return {
        "cot": ("cot", dataset, calculator, cot_seed),
        "answer_only": ("answer_only", dataset, calculator, 0),
        "floor": ("floor", dataset, True, 0),
    }


def compare(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every arm against cot, answer-only and the floor on the same set and calculator setting."""
    from backend.evaluation.stats import mcnemar_exact, wilson_interval

    by_key = {row_key(r): r for r in results}
    rows = []
    for result in results:
        interval = wilson_interval(result["n_correct"], result["n_problems"])
        arm, dataset, calculator, seed = row_key(result)
        row = {"arm": arm, "dataset": dataset, "calculator": calculator, "seed": seed,
               "ci_low": interval.low, "ci_high": interval.high}  # fmt: skip
        for reference, key in _references(arm, dataset, calculator, seed).items():
            other = by_key.get(key)
            if other is not None and key != (arm, dataset, calculator, seed):
                test = mcnemar_exact(*_paired(result, other))
                row[f"vs_{reference}"] = {"only_this": test.only_a, f"only_{reference}": test.only_b,
                                          "p": test.p_value}  # fmt: skip
        rows.append(row)
    return rows


def _p(row: dict[str, Any], reference: str) -> str:
    test = row.get(f"vs_{reference}")
    if test is None:
        return "-"
    return f"{test['p']:.3g} (+{test['only_this']}/-{test[f'only_{reference}']})"


def label(row: dict[str, Any]) -> str:
    """ "cot", "cot s1", "cot, calc off"."""
    _, _, calculator, seed = row_key(row)
    return row["arm"] + (f" s{seed}" if seed else "") + ("" if calculator else ", calc off")


def table(payload: dict[str, Any]) -> str:
    comparisons = {row_key(c): c for c in payload.get("comparisons", [])}
    seconds: dict[tuple[str, int], float] = {}  # (arm, seed) -> its students' training seconds
    for key, student in payload.get("students", {}).items():
        name, _, seed = key.partition("@")
        arm = (name.split("/")[0], int(seed or 0))
        seconds[arm] = seconds.get(arm, 0.0) + float(student["seconds"])
    lines = [
        "| arm | eval set | accuracy | 95% CI | correct / n | p vs cot (+wins/-losses) | p vs answer-only "
        "| p vs floor | truncated | tokens / problem | train s | eval s |",
        "|---" * 12 + "|",
    ]
    for r in payload["results"]:
        c = comparisons.get(row_key(r), {"ci_low": float("nan"), "ci_high": float("nan")})
        lines.append(
            f"| {label(r)} | {r['dataset']} | {r['accuracy']:.1%} | {c['ci_low']:.1%}-{c['ci_high']:.1%} | "
            f"{r['n_correct']} / {r['n_problems']} | {_p(c, 'cot')} | {_p(c, 'answer_only')} | "
            f"{_p(c, 'floor')} | "
            f"{r.get('truncation_rate', 0):.0%} | {r['tokens_per_problem']:.0f} | "
            f"{seconds.get((r['arm'], row_key(r)[3]), 0):.0f} | {r['eval_seconds']:.0f} |"
        )
    return "\n".join(lines + trained_by(payload))


def trained_by(payload: dict[str, Any]) -> list[str]:
    """What trained each arm's students, as the run recorded it (older runs recorded nothing)."""
    from bench.ladder_presets import TRAINED_BY

    arms = dict.fromkeys(r["arm"] for r in payload["results"])
    recorded = payload.get("arm_training") or {}
    known = {arm: recorded.get(arm) or TRAINED_BY.get(arm, "unknown") for arm in arms}
    return ["", "What trained each arm:"] + [f"- {arm}: {text}" for arm, text in known.items()]


def compare_runs(
    new: list[dict[str, Any]],
    old: list[dict[str, Any]],
    new_splits: dict[str, list[int]] | None = None,
    old_splits: dict[str, list[int]] | None = None,
) -> list[str]:
    """Each evaluation of the new run against every arm of the old one on the same set and calculator
    setting (its own arm first), exact McNemar on the problems both evaluated: a student trained on more
    data is tested against its own earlier recipe and against the earlier run's baselines. With both
    runs' splits, the old run's problems are first put under the new run's ids (`aligned`); a set that
    cannot be aligned is left out and named below the table."""
    from backend.evaluation.stats import mcnemar_exact

    unpaired: set[str] = set()
    if new_splits is not None and old_splits is not None:
        moved = [(row, aligned(row, old_splits, new_splits)) for row in old]
        unpaired = {row["dataset"] for row, kept in moved if kept is None}
        old = [kept for _, kept in moved if kept is not None]

    lines = [
        "| arm | eval set | new | old arm | old | shared problems | +wins / -losses | exact p |",
        "|---" * 8 + "|",
    ]
    for result in new:
        _, dataset, calculator, _ = row_key(result)
        same_setting = [o for o in old if row_key(o)[1:3] == (dataset, calculator)]
        for other in sorted(same_setting, key=lambda o: o["arm"] != result["arm"]):
            new_correct, old_correct = _paired(result, other)
            test = mcnemar_exact(new_correct, old_correct)
            lines.append(
                f"| {label(result)} | {dataset} | {sum(new_correct)} | {label(other)} | {sum(old_correct)} | "
                f"{len(new_correct)} | +{test.only_a} / -{test.only_b} | {test.p_value:.2g} |"
            )
    if unpaired:
        lines.append(
            f"\nNot paired (the set is missing or of another size in one run): {', '.join(sorted(unpaired))}"
        )
    return lines


# What must agree for two runs' rows to stand in one table: the same students' recipe and data.
SAME_RUN = ("preset", "n_train", "train_source", "epochs", "learning_rate", "batch_size", "base_model")


def _merged_row(
    row: dict[str, Any], theirs: dict[str, list[int]], ours: dict[str, list[int]]
) -> dict[str, Any]:
    """A merged run's row under this run's ids; a set only the other run has keeps its own ids (rows are
    only ever paired within one set)."""
    moved = aligned(row, theirs, ours)
    if moved is not None:
        return moved
    if row["dataset"].removesuffix("_clean") in ours:
        raise SystemExit(f"the runs' {row['dataset']} sets differ in size: their rows cannot be paired")
    return row


def merge(payload: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """`payload` with `other`'s evaluations it lacks (a second seed trained in a run of its own)."""
    config = payload["config"] | {"preset": payload.get("preset")}
    other_config = other["config"] | {"preset": other.get("preset")}
    differ = [key for key in SAME_RUN if config.get(key) != other_config.get(key)]
    if differ:
        raise SystemExit(f"these runs differ in {', '.join(differ)}: their rows cannot share a table")
    have = {row_key(r) for r in payload["results"]}
    added = [r for r in other["results"] if row_key(r) not in have]
    if "splits" in payload and "splits" in other:
        added = [_merged_row(r, other["splits"], payload["splits"]) for r in added]
    students = other.get("students", {}) | payload.get("students", {})
    return payload | {"results": payload["results"] + added, "students": students}


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", type=Path, help="a ladder's results.json")
    p.add_argument("--against", type=Path, help="an earlier run: each row against its arms")
    p.add_argument("--merge", type=Path, help="a run of more seeds of the same recipe: one table")
    args = p.parse_args(argv)
    results = json.loads(args.results.read_text())
    if args.merge:
        results = merge(results, json.loads(args.merge.read_text()))
    results["comparisons"] = compare(results["results"])
    print(table(results))
    if args.against:
        print()
        against = json.loads(args.against.read_text())
        pairs = compare_runs(
            results["results"], against["results"], results.get("splits"), against.get("splits")
        )
        print("\n".join(pairs))


if __name__ == "__main__":
    main(sys.argv[1:])
