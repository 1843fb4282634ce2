"""Two stored evaluations compared problem by problem: accuracy with Wilson intervals and the exact
McNemar test on the problems both answered, on all of them and on the clean subset (the problems that
neither evaluation's contamination check found in its students' training data). A round compares its
student with the one it started from this way; `socratic-studio compare` compares any two."""

from collections.abc import Collection
from typing import Any

from sqlmodel import Session, col, select

from backend.evaluation.stats import mcnemar_exact, wilson_interval
from db.models import EvalRun, EvalTrace

# A run's traces as the comparison reads them: problem id -> (correct, seen in training; None: unchecked).
Traces = dict[int, tuple[bool, bool | None]]


def compare(
    session: Session, before_run: int, after_run: int, problems: Collection[int] | None = None
) -> dict[str, Any]:
    """Accuracy of both evaluations on the problems both answered (of `problems` only, when given), and
    the exact McNemar test (`wins`: right after and wrong before)."""
    return _compared(_traces(session, before_run), _traces(session, after_run), problems) | {
        "before_run": before_run,
        "after_run": after_run,
    }


def clean_problems(session: Session, run_ids: Collection[int]) -> set[int] | None:
    """The problems every one of the runs checked and none found in its students' training data; None
    when a run has no checked trace (an evaluation stored before the check, or of an untrained model),
    since then "clean" would claim what nobody checked."""
    return _clean([_traces(session, run_id) for run_id in run_ids])


def compare_with_clean(
    session: Session, before_run: int, after_run: int, *, changed: bool = False
) -> dict[str, Any]:
    """`compare` on all shared problems, with the same comparison on the clean subset under `clean`
    (None when the check did not run on both); with `changed`, the problems behind McNemar's counts under
    `changed`: `gained` right only after, `lost` right only before. Each run's traces are read once."""
    before, after = _traces(session, before_run), _traces(session, after_run)
    clean = _clean([before, after])
    ids = {"before_run": before_run, "after_run": after_run}
    result = (
        _compared(before, after)
        | ids
        | {"clean": None if clean is None else _compared(before, after, clean) | ids}
    )
    return (result | {"changed": _changed(before, after)}) if changed else result


def _changed(before: Traces, after: Traces) -> dict[str, list[int]]:
    shared = sorted(before.keys() & after.keys())
    return {
        "gained": [p for p in shared if after[p][0] and not before[p][0]],
        "lost": [p for p in shared if before[p][0] and not after[p][0]],
    }


def _compared(before: Traces, after: Traces, problems: Collection[int] | None = None) -> dict[str, Any]:
    both = before.keys() & after.keys()
    shared = sorted(both if problems is None else both & set(problems))
    a = [after[p][0] for p in shared]
    b = [before[p][0] for p in shared]
    test = mcnemar_exact(a, b)
    n = len(shared)
    return {
        "n": n,
        "before": sum(b),
        "after": sum(a),
        "before_ci": _interval(sum(b), n),
        "after_ci": _interval(sum(a), n),
        "wins": test.only_a,
        "losses": test.only_b,
        "p_value": test.p_value,
    }


def _clean(runs: list[Traces]) -> set[int] | None:
    clean: set[int] | None = None
    for traces in runs:
        checked = {problem: seen for problem, (_, seen) in traces.items() if seen is not None}
        if not checked:
            return None
        unseen = {problem for problem, seen in checked.items() if not seen}
        clean = unseen if clean is None else clean & unseen
    return clean


def describe(result: dict[str, Any]) -> str:
    """The comparison in words: both accuracies with their intervals and the test, then the same on the
    clean subset when the check ran."""
    text = _sentence(result, "Before")
    clean = result.get("clean")
    if clean is not None:
        whole = result["n"]
        text += f" On the {clean['n']} of {whole} problems no student had seen in training: " + (
            _sentence(clean, "before") if clean["n"] else "none."
        )
    return text


def _sentence(result: dict[str, Any], first: str) -> str:
    n = result["n"]

    def accuracy(correct: int, interval: list[float]) -> str:
        rate = correct / n if n else 0.0
        return f"{rate:.1%} ({correct}/{n}, 95% CI {interval[0]:.1%}-{interval[1]:.1%})"

    return (
        f"{first} {accuracy(result['before'], result['before_ci'])}, after "
        f"{accuracy(result['after'], result['after_ci'])}, exact McNemar p = {result['p_value']:.3g} "
        f"(+{result['wins']}/-{result['losses']})."
    )


def find_eval_run(session: Session, reference: str) -> EvalRun:
    """An evaluation run by id or by name (the newest of that name)."""
    text = reference.strip()
    if text.isdigit():
        run = session.get(EvalRun, int(text))
    else:
        run = session.exec(
            select(EvalRun).where(EvalRun.name == text).order_by(col(EvalRun.id).desc())
        ).first()
    if run is None or run.id is None:
        raise LookupError(f"no evaluation run with id or name {text[:80]!r}")
    return run


def _traces(session: Session, run_id: int) -> Traces:
    rows = session.exec(
        select(EvalTrace.problem_id, EvalTrace.correct, EvalTrace.seen_in_training).where(
            EvalTrace.eval_run_id == run_id
        )
    )
    return {problem: (bool(correct), seen) for problem, correct, seen in rows.all()}


def _interval(correct: int, n: int) -> list[float]:
    interval = wilson_interval(correct, n)
    return [interval.low, interval.high]
