"""An evaluation run's summary, computed from its stored traces (so a resumed run summarises all of them)."""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from backend.evaluation.contamination import MIN_SHARED, NGRAM, THRESHOLD
from backend.evaluation.stats import wilson_interval
from db.models import EvalRun, EvalTrace, Problem


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def contamination_note(block: dict[str, Any]) -> str:
    """The contamination check's result in words (one sentence for the CLI, the Train tab and Failures)."""
    n, flagged, clean = block["n_checked"], block["n_flagged"], block["n_clean"]
    if block["training_problems"] is None:
        return "Not checked for contamination: no evaluated model was trained in this app."
    if n and flagged == n:
        return (
            f"All {n} problems were seen in training (same question up to numbers and names): this accuracy "
            "measures recall of training problems, not reasoning on new ones; no clean subset is left."
        )
    if flagged == 0:
        return (
            f"None of the {n} problems was seen in training "
            f"(compared with {block['training_problems']} training problems)."
        )
    return (
        f"{flagged} of {n} problems were seen in training; on the {clean} unseen, accuracy is "
        f"{block['clean_accuracy']:.1%} ({block['clean_correct']}/{clean}), beside {block['accuracy']:.1%} "
        "on the whole set."
    )


def contamination_cells(summary: dict[str, Any]) -> tuple[str, str]:
    """(problems seen in training, clean-subset accuracy) as short table cells, for any stored summary
    (runs summarised before the check existed have no contamination block)."""
    block = summary.get("contamination")
    if not block or block["training_problems"] is None:
        return "not checked", ""
    flagged = f"{block['n_flagged']}/{block['n_checked']}"
    if block["all_seen"]:
        return flagged, "none: all seen in training"
    return flagged, f"{block['clean_accuracy']:.1%} ({block['clean_correct']}/{block['n_clean']})"


def contamination(traces: Sequence[EvalTrace], training_problems: int | None) -> dict[str, Any]:
    """Accuracy on the clean subset (problems not seen in training) beside the whole, and the number
    flagged; traces without a flag (stored before the check existed) count as unchecked, not clean."""
    checked = [trace for trace in traces if trace.seen_in_training is not None]
    clean = [trace for trace in checked if not trace.seen_in_training]
    clean_correct = sum(trace.correct for trace in clean)
    interval = wilson_interval(clean_correct, len(clean))
    block: dict[str, Any] = {
        "training_problems": training_problems,
        "ngram": NGRAM,
        "threshold": THRESHOLD,
        "min_shared": MIN_SHARED,
        "n_checked": len(checked),
        "n_flagged": len(checked) - len(clean),
        "n_clean": len(clean),
        "clean_correct": clean_correct,
        "clean_accuracy": _rate(clean_correct, len(clean)),
        "clean_ci": [round(interval.low, 4), round(interval.high, 4)] if clean else None,
        "accuracy": _rate(sum(trace.correct for trace in traces), len(traces)),
        "all_seen": bool(checked) and not clean,
    }
    return block | {"note": contamination_note(block)}


def calculator_share(traces: Sequence[EvalTrace]) -> dict[str, int]:
    """How much the calculator did: its corrections, and the answers (all, and the correct ones) that
    needed at least one. With the calculator on, accuracy is the student's and the calculator's together.
    Flat keys: a ladder row is the summary merged with its own "calculator" (on or off) setting."""
    corrected = [trace for trace in traces if any(step.get("calculator") for step in trace.steps)]
    return {
        "calculator_corrections": sum(
            len(step.get("calculator") or []) for trace in corrected for step in trace.steps
        ),
        "answers_corrected": len(corrected),
        "correct_answers_corrected": sum(trace.correct for trace in corrected),
    }


def summarise(session: Session, *, eval_run_id: int, price_per_1k_tokens: float) -> dict[str, Any]:
    """Accuracy (overall and by number of reference steps), unparseable rate, tokens, estimated cost,
    latency, error categories, first divergent steps, the calculator's corrections, and the contamination
    check (clean-subset accuracy, number flagged)."""
    rows = session.exec(
        select(EvalTrace, Problem.num_gold_steps)
        .join(Problem, col(Problem.id) == EvalTrace.problem_id)
        .where(EvalTrace.eval_run_id == eval_run_id)
    ).all()
    n = len(rows)
    traces = [trace for trace, _ in rows]
    run = session.get(EvalRun, eval_run_id)
    by_steps: dict[str, list[int]] = {}
    for trace, gold_steps in rows:
        bucket = by_steps.setdefault(str(gold_steps), [0, 0])
        bucket[0] += 1
        bucket[1] += int(trace.correct)
    tokens = sum(trace.tokens for trace in traces)
    generated = sum(sum(step.get("tokens", 0) for step in trace.steps) for trace in traces)
    return {
        "n_problems": n,
        "n_correct": sum(trace.correct for trace in traces),
        "accuracy": _rate(sum(trace.correct for trace in traces), n),
        "accuracy_by_reference_steps": {
            steps: {"n": total, "correct": correct, "accuracy": _rate(correct, total)}
            for steps, (total, correct) in sorted(by_steps.items(), key=lambda item: int(item[0]))
        },
        "unparseable_rate": _rate(sum(not trace.parseable for trace in traces), n),
        # Outputs cut before the answer marker (token limit, EOS, or a loop the backend ended): a budget too
        # small shows here; loop_rate is the part that was one block written over and over.
        "truncation_rate": _rate(sum(trace.error_category in ("truncated", "looped") for trace in traces), n),
        "loop_rate": _rate(sum(trace.error_category == "looped" for trace in traces), n),
        "mean_steps": round(sum(trace.num_steps for trace in traces) / n, 3) if n else 0.0,
        "tokens_per_problem": round(tokens / n, 1) if n else 0.0,
        "step_tokens_per_problem": round(generated / n, 1) if n else 0.0,
        "price_per_1k_tokens": price_per_1k_tokens,
        "estimated_cost_per_problem": round(tokens / n / 1000 * price_per_1k_tokens, 6) if n else 0.0,
        "latency_per_problem_s": round(sum(trace.latency_s for trace in traces) / n, 3) if n else 0.0,
        "error_categories": dict(Counter(trace.error_category for trace in traces if trace.error_category)),
        "first_divergent_step": dict(
            Counter(
                str(trace.first_divergent_step) for trace in traces if trace.first_divergent_step is not None
            )
        ),
        "failed_generations": sum(trace.error is not None for trace in traces),
        **calculator_share(traces),
        "contamination": contamination(traces, run.training_problems if run is not None else None),
    }
