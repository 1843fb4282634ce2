"""Failures: an evaluation run's wrong answers, breakdowns, one trace beside the reference, related
training rationales, and sending failures to the annotation queue."""

from typing import Any

import gradio as gr
import pandas as pd
from plotly.graph_objects import Figure
from sqlmodel import Session

from backend.access.auth import PermissionDenied
from backend.evaluation import failures, paired
from backend.evaluation.failures import FailureFilter
from backend.queries import catalog
from backend.student_formats import StepText
from db.models import EvalRun, Role, User
from webapp import charts, strings
from webapp.context import AppContext, user_error
from webapp.render import inert
from webapp.roles import needs

S = strings.Failures
Segments = list[tuple[str, str | None]]


def _number(value: Any) -> int | None:
    """A picked id or a step count (None: not set); text, a fraction or a negative is a clear error, as
    requests need not come from the page's own widgets."""
    if value in (None, "", 0):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise user_error(S.NOT_A_NUMBER.format(value=str(value)[:40])) from error
    if number < 0 or (number != value and str(number) != str(value).strip()):
        raise user_error(S.NOT_A_NUMBER.format(value=str(value)[:40]))
    return number


def _split(counts: dict[Any, dict[str, int]]) -> dict[str, dict[Any, float]]:
    return {
        "correct": {key: value["correct"] for key, value in counts.items()},
        "wrong": {key: value["wrong"] for key, value in counts.items()},
    }


def trace_segments(steps: list[Any], divergent: int | None, *, label: str) -> Segments:
    """One segment per step for gr.HighlightedText; the divergent step carries `label`."""
    segments: Segments = []
    for index, step in enumerate(steps):
        head = f"Q{index + 1}: {step.sub_question}\n" if step.sub_question else ""
        segments.append((f"{head}{index + 1}. {step.text}\n", label if index == divergent else None))
    return segments


class FailureHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def choices(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        with self.app.session() as session:
            runs = catalog.eval_run_choices(session)
            datasets = [(strings.ANY, 0), *catalog.dataset_choices(session)]
            users = [(strings.ANY, 0), *catalog.user_choices(session)]
        return (
            gr.update(
                choices=runs, value=runs[0][1] if runs else None, info=None if runs else S.NO_EVAL_RUNS
            ),
            gr.update(choices=datasets),
            gr.update(choices=users),
            gr.update(choices=[(S.NO_AGAINST, 0), *runs]),
        )

    @needs(Role.viewer)
    def compare(self, run_id: Any, against_id: Any) -> str:
        """The shown run (after) against the chosen one (before), paired, on all shared problems and on
        the clean ones; empty when no run is chosen to compare with."""
        shown, against = _number(run_id), _number(against_id)
        if shown is None or against is None:
            return ""
        if shown == against:
            return S.SAME_RUN
        with self.app.session() as session:
            try:
                after = failures.get_eval_run(session, eval_run_id=shown)
                before = failures.get_eval_run(session, eval_run_id=against)
            except LookupError as error:
                raise user_error(str(error)) from error
            result = paired.compare_with_clean(session, against, shown)
        names = {"before": inert(before.name), "after": inert(after.name)}
        if not result["n"]:
            return S.NO_SHARED.format(**names)
        return S.COMPARED.format(**names, n=result["n"], result=paired.describe(result))

    @needs(Role.viewer)
    def show(
        self,
        run_id: Any,
        dataset_id: Any,
        min_steps: Any,
        max_steps: Any,
        category: str,
        against_id: Any = None,
        lost: bool = False,
    ) -> tuple[dict[str, Any], str, Figure, Figure, Figure, dict[str, Any]]:
        """The run's failures the filters match; with `lost`, only those the compared run got right."""
        if not _number(run_id):
            raise user_error(S.NO_RUN)
        run_filter = _run_filter(run_id, dataset_id, min_steps, max_steps, category, against_id, lost)
        with self.app.session() as session:
            try:
                run = failures.get_eval_run(session, eval_run_id=int(run_id))
                against = _against_run(session, run_filter)
            except LookupError as error:
                raise user_error(str(error)) from error
            rows = failures.list_failures(session, eval_run_id=int(run_id), failure_filter=run_filter)
            counts = failures.breakdowns(session, eval_run_id=int(run_id))
            categories = failures.error_categories(session, eval_run_id=int(run_id))
        total = sum(v["correct"] + v["wrong"] for v in counts["by_steps"].values())
        wrong = sum(v["wrong"] for v in counts["by_steps"].values())
        summary = S.SUMMARY.format(
            name=inert(run.name),
            method=run.method,
            status=run.status,
            wrong=wrong,
            total=total,
            shown=len(rows),
        )
        if against is not None:
            summary = f"{summary} {S.LOST_SHOWN.format(name=inert(against.name))}"
        note = run.summary.get("contamination", {}).get("note")  # runs summarised before the check: none
        summary = f"{summary} {note}" if note else summary
        by_category = {
            key: value["wrong"] for key, value in counts["by_category"].items() if key != "correct"
        }
        table = pd.DataFrame(rows, columns=S.HEADERS)
        return (
            gr.update(value=table, label=S.TABLE if rows else S.NO_WRONG),
            summary,
            charts.grouped_bars(
                _split(counts["by_steps"]),
                title=S.BY_STEPS,
                x_title="steps",
                stacked=True,
                empty=S.EMPTY_CHART,
            ),
            charts.grouped_bars(
                _split(counts["by_dataset"]), title=S.BY_DATASET, stacked=True, empty=S.EMPTY_CHART
            ),
            charts.bar(by_category, title=S.BY_CATEGORY, empty=S.NO_WRONG),
            gr.update(choices=["", *categories]),
        )

    @needs(Role.viewer)
    def refilter(self, *filters: Any) -> tuple[Any, ...]:
        """The failures shown again (`filters` as `show` takes them) when "Only what it got right" is
        ticked or cleared: the page stays as it is, with a note rather than an error, while no run is shown
        or the box has no run to keep."""
        run_id, *_, against_id, lost = filters
        if not _number(run_id):
            return (gr.skip(),) * 6
        if lost is True and not _number(against_id):
            gr.Info(S.LOST_NEEDS_RUN)
            return (gr.skip(),) * 6
        return self.show(*filters)

    @needs(Role.viewer)
    def against_changed(self, *filters: Any) -> tuple[Any, ...]:
        """Another run picked under Compare with: the failures change only while the box keeps its
        right answers."""
        return self.refilter(*filters) if filters[-1] is True else (gr.skip(),) * 6

    @needs(Role.viewer)
    def select(self, event: gr.SelectData) -> int | None:
        row = event.row_value or []
        return int(row[0]) if row and str(row[0]).isdigit() else None

    @needs(Role.viewer)
    def detail(self, run_id: Any, trace_id: Any) -> tuple[str, str, Segments, Segments, dict[str, Any]]:
        """The question, gold answer, trace and reference (divergence marked) and related rationales."""
        if not trace_id:
            raise user_error(S.NOTHING_SELECTED)
        with self.app.session() as session:
            try:
                trace, problem = failures.get_trace(session, trace_id=int(trace_id))
                related = failures.related_rationales(
                    session, eval_run_id=int(run_id), problem_id=problem.id or 0
                )
            except LookupError as error:
                raise user_error(str(error)) from error
        reference = [StepText(s.get("sub_question"), str(s.get("text", ""))) for s in problem.gold_steps]
        divergent = trace.first_divergent_step
        answer_line = [(f"Final answer: {trace.final_answer or '(none)'}", None)]
        return (
            problem.question,
            problem.gold_answer or "",
            trace_segments(failures.trace_steps(trace), divergent, label=S.DIVERGENT) + answer_line,
            trace_segments(reference, divergent, label=S.DIVERGENT),
            gr.update(
                value=pd.DataFrame(related, columns=S.RELATED_HEADERS),
                label=S.RELATED if related else S.NO_RELATED,
            ),
        )

    @needs(Role.viewer)
    def select_related(self, event: gr.SelectData) -> int | None:
        return self.select(event)

    @needs(Role.annotator)
    def send(
        self,
        which: str,
        trace_id: Any,
        run_id: Any,
        dataset_id: Any,
        min_steps: Any,
        max_steps: Any,
        category: str,
        against_id: Any,
        lost: bool,
        what: str,
        queue_name: str,
        assignee_id: Any,
        flag: bool,
        request: gr.Request,
    ) -> str:
        """Failures to annotators: their traces or training rationales, flagged, assigned, in a named queue.
        "matching" takes every failure the filters match (with `lost`, only those the compared run got
        right), found here, never the browser's table."""
        user = self.app.require(request, Role.annotator)
        queue = (queue_name or "").strip() or None
        with self.app.session() as session:
            assignee = session.get(User, int(assignee_id)) if _number(assignee_id) else None
            try:
                if which == "matching":
                    if not _number(run_id):
                        raise user_error(S.NO_RUN)
                    run_filter = _run_filter(
                        run_id, dataset_id, min_steps, max_steps, category, against_id, lost
                    )
                    _against_run(session, run_filter)
                    ids = failures.failing_trace_ids(
                        session, eval_run_id=int(run_id), failure_filter=run_filter
                    )
                else:
                    ids = [int(trace_id)] if _number(trace_id) else []
                if not ids:
                    raise user_error(S.NONE_MATCH if which == "matching" else S.NOTHING_SELECTED)
                rationale_ids = failures.send_to_queue(
                    session, trace_ids=ids, by=user, assignee=assignee, flag=flag, queue_name=queue, what=what
                )
            except (LookupError, ValueError, PermissionDenied) as error:
                raise user_error(str(error)) from error
        into = S.SENT_QUEUE.format(name=inert(queue)) if queue else ""
        shown = ", ".join(map(str, rationale_ids[:50])) + (" ..." if len(rationale_ids) > 50 else "")
        return S.SENT.format(count=len(rationale_ids), failures=len(ids), queue=into, ids=shown)


def _run_filter(
    run_id: Any,
    dataset_id: Any,
    min_steps: Any,
    max_steps: Any,
    category: str | None,
    against_id: Any = None,
    lost: bool = False,
) -> FailureFilter:
    """The page's filters, checked; `lost` (a checkbox: true, false or unset) needs another run."""
    if lost not in (True, False, None):  # a request need not come from the page's own checkbox
        raise user_error(S.NOT_A_BOX.format(value=str(lost)[:40]))
    against = _number(against_id) if lost else None
    if lost and against is None:
        raise user_error(S.LOST_NEEDS_RUN)
    if against is not None and against == _number(run_id):
        raise user_error(S.SAME_RUN)
    return FailureFilter(
        dataset_id=_number(dataset_id),
        min_steps=_number(min_steps),
        max_steps=_number(max_steps),
        error_category=(category or "").strip() or None,
        right_in_run=against,
    )


def _against_run(session: Session, run_filter: FailureFilter) -> EvalRun | None:
    """The run the failures are filtered against (LookupError when there is no such run)."""
    if run_filter.right_in_run is None:
        return None
    return failures.get_eval_run(session, eval_run_id=run_filter.right_in_run)
