"""Failure analysis of an evaluation run: its wrong answers, breakdowns, related training rationales,
and sending a failure to the annotation queue.

All SQL over EvalTrace (indexed by run and correctness); a failure's trace becomes a student rationale
when it is sent to the queue, so annotators review it with the same tools as any other rationale.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from backend.access.auth import require_role
from backend.annotation import assign_rationales, named_queues, review_rationale
from backend.evaluation import contamination
from backend.evaluation.contamination import evaluated_checkpoints
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from db.models import (
    CuratedItem,
    Dataset,
    EvalRun,
    EvalTrace,
    Problem,
    Rationale,
    RationaleSource,
    Role,
    User,
    Verdict,
)


@dataclass
class FailureFilter:
    dataset_id: int | None = None
    min_steps: int | None = None
    max_steps: int | None = None
    error_category: str | None = None
    # Another evaluation run: only the problems it answered correctly, so that the failures shown are
    # what a student lost against it (e.g. a round's student against the one it started from).
    right_in_run: int | None = None

    def apply(self, query: Any) -> Any:
        if self.right_in_run is not None:
            # an alias keeps the other run's traces apart from the outer query's in the SQL
            other = aliased(EvalTrace)
            solved = select(other.problem_id).where(
                other.eval_run_id == self.right_in_run, col(other.correct).is_(True)
            )
            query = query.where(col(EvalTrace.problem_id).in_(solved))
        if self.dataset_id is not None:
            query = query.where(Problem.dataset_id == self.dataset_id)
        if self.min_steps is not None:
            query = query.where(col(EvalTrace.num_steps) >= self.min_steps)
        if self.max_steps is not None:
            query = query.where(col(EvalTrace.num_steps) <= self.max_steps)
        if self.error_category:
            query = query.where(EvalTrace.error_category == self.error_category)
        return query


def get_eval_run(session: Session, *, eval_run_id: int) -> EvalRun:
    run = session.get(EvalRun, eval_run_id)
    if run is None:
        raise LookupError(f"no evaluation run with id {eval_run_id}")
    return run


def list_failures(
    session: Session, *, eval_run_id: int, failure_filter: FailureFilter | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The run's wrong answers (first `limit`, by trace id) with their problem, for a table."""
    query = (
        select(EvalTrace, Problem, Dataset.name)
        .join(Problem, col(Problem.id) == EvalTrace.problem_id)
        .join(Dataset, col(Dataset.id) == Problem.dataset_id)
        .where(EvalTrace.eval_run_id == eval_run_id, col(EvalTrace.correct).is_(False))
        .order_by(col(EvalTrace.id))
        .limit(limit)
    )
    rows = session.exec((failure_filter or FailureFilter()).apply(query)).all()
    return [
        {
            "trace_id": trace.id,
            "problem_id": problem.id,
            "dataset": dataset,
            "question": problem.question,
            "gold": problem.gold_answer or "",
            "answer": trace.final_answer or "",
            "steps": trace.num_steps,
            "first_divergent_step": ""
            if trace.first_divergent_step is None
            else trace.first_divergent_step + 1,
            "error_category": trace.error_category or "",
            "seen_in_training": "" if trace.seen_in_training is None else trace.seen_in_training,
        }
        for trace, problem, dataset in rows
    ]


def error_categories(session: Session, *, eval_run_id: int) -> list[str]:
    rows = session.exec(
        select(EvalTrace.error_category)
        .where(EvalTrace.eval_run_id == eval_run_id, col(EvalTrace.error_category).is_not(None))
        .distinct()
    ).all()
    return sorted(str(row) for row in rows)


def breakdowns(session: Session, *, eval_run_id: int) -> dict[str, dict[Any, dict[str, int]]]:
    """Counts of right and wrong answers by number of steps, by dataset, and by error category."""

    def grouped(column: Any, *joins: Any) -> dict[Any, dict[str, int]]:
        query = select(column, EvalTrace.correct, func.count()).select_from(EvalTrace)
        for join in joins:
            query = query.join(*join)
        query = query.where(EvalTrace.eval_run_id == eval_run_id).group_by(column, col(EvalTrace.correct))
        result: dict[Any, dict[str, int]] = {}
        for key, correct, count in session.exec(query).all():
            result.setdefault(key, {"correct": 0, "wrong": 0})["correct" if correct else "wrong"] += int(
                count
            )
        return result

    problem_join = (Problem, col(Problem.id) == EvalTrace.problem_id)
    dataset_join = (Dataset, col(Dataset.id) == Problem.dataset_id)
    by_category = grouped(EvalTrace.error_category)
    return {
        "by_steps": dict(sorted(grouped(EvalTrace.num_steps).items())),
        "by_dataset": grouped(Dataset.name, problem_join, dataset_join),
        "by_category": {key or "correct": value for key, value in by_category.items()},
    }


def get_trace(session: Session, *, trace_id: int) -> tuple[EvalTrace, Problem]:
    trace = session.get(EvalTrace, trace_id)
    if trace is None:
        raise LookupError(f"no evaluation trace with id {trace_id}")
    problem = session.get(Problem, trace.problem_id)
    assert problem is not None  # foreign key
    return trace, problem


def trace_steps(trace: EvalTrace) -> list[StepText]:
    return [StepText(step.get("sub_question"), str(step.get("answer", ""))) for step in trace.steps]


def training_set_ids(session: Session, *, eval_run: EvalRun) -> set[int]:
    """The curated sets the run's checkpoints were trained on (and the checkpoints they started from)."""
    checkpoints = evaluated_checkpoints((eval_run.decomposer, eval_run.solver))
    return contamination.training_set_ids(session, checkpoint_ids=checkpoints)


def related_rationales(session: Session, *, eval_run_id: int, problem_id: int) -> list[dict[str, Any]]:
    """Every rationale of the problem; `in_training_set` marks those the evaluated students learned from."""
    sets = training_set_ids(session, eval_run=get_eval_run(session, eval_run_id=eval_run_id))
    trained: set[int] = set()
    if sets:
        trained = set(
            session.exec(select(CuratedItem.rationale_id).where(col(CuratedItem.set_id).in_(sets))).all()
        )
    rows = session.exec(
        select(Rationale).where(Rationale.problem_id == problem_id).order_by(col(Rationale.id))
    ).all()
    return [
        {
            "rationale_id": r.id,
            "source": str(r.source),
            "verdict": str(r.verdict),
            "review_status": str(r.review_status),
            "steps": r.num_steps,
            "in_training_set": r.id in trained,
        }
        for r in rows
    ]


def _flag(session: Session, *, rationale_id: int, by: User) -> None:
    stored = session.get(Rationale, rationale_id)
    if stored is not None and stored.review_status == "unreviewed":
        review_rationale(
            session,
            rationale_id=rationale_id,
            expected_version=stored.version,
            verdict="flag",
            reviewer=by,
            comment="sent from the failures of an evaluation run",
        )


SEND_WHAT = {"traces": "the student's traces, saved as rationales", "training": "their training rationales"}


def failing_trace_ids(session: Session, *, eval_run_id: int, failure_filter: FailureFilter) -> list[int]:
    """Every wrong answer of the run the filter matches (no page limit), by trace id."""
    query = (
        select(EvalTrace.id)
        .join(Problem, col(Problem.id) == EvalTrace.problem_id)
        .where(EvalTrace.eval_run_id == eval_run_id, col(EvalTrace.correct).is_(False))
        .order_by(col(EvalTrace.id))
    )
    return [int(trace_id) for trace_id in session.exec(failure_filter.apply(query)).all() if trace_id]


def _trace_rationale(session: Session, *, trace_id: int, by: User) -> int:
    """The failure's trace stored as a student rationale (answer check "wrong"), once per trace."""
    trace, problem = get_trace(session, trace_id=trace_id)
    draft = RationaleDraft(
        steps=trace_steps(trace),
        final_answer=trace.final_answer,
        raw_text=trace.raw_text,
        verdict=Verdict.wrong if trace.parseable else Verdict.unparseable,
        sample_index=1_000_000 + (trace.id or 0),  # one rationale per trace, apart from saved step-throughs
    )
    existing = session.exec(
        select(Rationale.id).where(
            Rationale.problem_id == problem.id,
            col(Rationale.run_id).is_(None),
            Rationale.sample_index == draft.sample_index,
        )
    ).first()
    if existing is None:
        rationale = add_rationale(
            session, problem=problem, draft=draft, source=RationaleSource.student, author_id=by.id
        )
        session.commit()
        existing = rationale.id
    assert existing is not None
    return int(existing)


def training_rationale_ids(session: Session, *, trace_ids: Sequence[int]) -> list[int]:
    """The rationales the evaluated students learned from, of the traces' problems (one run's traces)."""
    traces = [get_trace(session, trace_id=trace_id)[0] for trace_id in trace_ids]
    if not traces:
        return []
    run_ids = {trace.eval_run_id for trace in traces}
    if len(run_ids) != 1:
        raise ValueError("send the failures of one evaluation run at a time")
    sets = training_set_ids(session, eval_run=get_eval_run(session, eval_run_id=run_ids.pop()))
    if not sets:
        raise ValueError(
            "the evaluated models were not trained on a curated set here: no training rationales"
        )
    problems = {trace.problem_id for trace in traces}
    rows = session.exec(
        select(Rationale.id)
        .join(CuratedItem, col(CuratedItem.rationale_id) == Rationale.id)
        .where(col(CuratedItem.set_id).in_(sets), col(Rationale.problem_id).in_(problems))
        .distinct()
        .order_by(col(Rationale.id))
    ).all()
    return [int(rationale_id) for rationale_id in rows if rationale_id]


def send_to_queue(
    session: Session,
    *,
    trace_ids: Sequence[int],
    by: User,
    assignee: User | None = None,
    flag: bool = True,
    queue_name: str | None = None,
    what: str = "traces",
) -> list[int]:
    """Put failures in front of annotators; returns the rationale ids.

    `what`: "traces" stores each failure's trace as a student rationale; "training" takes the rationales
    of the same problems that the evaluated students were trained on. Then each is flagged (any annotator,
    unreviewed ones only), assigned to `assignee` (admins only, as assignment is) and/or put in the named
    queue `queue_name` (created when new). Everything is checked before anything is written."""
    require_role(by, Role.annotator)  # it writes rationales: the pages and the CLI check it too
    if what not in SEND_WHAT:
        raise ValueError(f"send one of {sorted(SEND_WHAT)}, not {what!r}")
    if assignee is not None:
        require_role(by, Role.admin)
    if queue_name is not None:
        queue_name = named_queues.check_queue_name(queue_name)
    for trace_id in trace_ids:
        get_trace(session, trace_id=trace_id)  # a missing trace refuses the whole call
    if what == "training":
        rationale_ids = training_rationale_ids(session, trace_ids=trace_ids)
        if not rationale_ids:
            raise ValueError("the evaluated students learned no rationale of these problems")
    else:
        rationale_ids = [_trace_rationale(session, trace_id=trace_id, by=by) for trace_id in trace_ids]
    if flag:
        for rationale_id in rationale_ids:
            _flag(session, rationale_id=rationale_id, by=by)
    if assignee is not None:
        assign_rationales(session, rationale_ids=rationale_ids, assignee=assignee, by=by)
    if queue_name is not None:
        queue = named_queues.queue_named(session, name=queue_name, by=by)
        named_queues.add_to_queue(session, queue=queue, rationale_ids=rationale_ids, by=by)
    return rationale_ids
