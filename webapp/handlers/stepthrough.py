"""Step through: start a session, advance it one sub-question and answer at a time (streamed in two
yields), edit before continuing, reveal answers one by one, save the trace, export it."""

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

import gradio as gr
import pandas as pd

from backend import catalog, stepthrough
from backend.auth import PermissionDenied
from backend.paths import PathNotAllowed
from backend.stepthrough import StepSession
from db.models import Role
from webapp import strings
from webapp.context import AppContext, user_error
from webapp.handlers.models import checked_specs, model_choices, model_spec
from webapp.render import inert

S = strings.StepThrough
Frame: TypeAlias = pd.DataFrame


def _session(state: dict[str, Any] | None) -> StepSession:
    if not state:
        raise user_error(S.NOT_STARTED)
    return StepSession.from_json(state)


def trace_frame(state: StepSession, *, reveal_mode: bool, revealed: int) -> Frame:
    """The pairs as table rows; in reveal mode only the first `revealed` answers show."""
    rows = []
    for index, pair in enumerate(state.pairs):
        hidden = reveal_mode and index >= revealed and pair.answer is not None
        rows.append([pair.sub_question, S.HIDDEN if hidden else (pair.answer or "")])
    return pd.DataFrame(rows, columns=S.TRACE_HEADERS)


def apply_edits(state: StepSession, table: Any) -> StepSession:
    """Take the user's edits from the table; hidden answers and empty answer cells keep their stored value."""
    if table is None:
        return state
    rows = table.values.tolist() if isinstance(table, pd.DataFrame) else list(table)
    edited: list[tuple[str, str | None]] = []
    for index, row in enumerate(rows):
        sub_question = str(row[0] if row[0] is not None else "")
        typed = str(row[1]) if len(row) > 1 and row[1] not in (None, "") else None
        stored = state.pairs[index].answer if index < len(state.pairs) else None
        edited.append((sub_question, stored if typed in (None, S.HIDDEN) else typed))
    return stepthrough.edit_pairs(state, edited)


_models: dict[str, Any] = {}


def _loaded(session: Any, spec: dict[str, Any]) -> Any:
    """Interim: models loaded in this process (the model worker replaces this)."""
    from backend.evaluation.socratic import load_model

    key = repr(sorted(spec.items()))
    if key not in _models:
        for old in _models.values():
            old.close()
        _models.clear()
        _models[key] = load_model(session, spec)
    return _models[key]


def _steps_frame(steps: list[Any]) -> Frame:
    return pd.DataFrame([[s.sub_question or "", s.text] for s in steps], columns=["sub_question", "text"])


class StepThroughHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    def choices(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        with self.app.session() as session:
            datasets = catalog.dataset_choices(session)
            models = model_choices(session, self.app.settings)
        return gr.update(choices=datasets), gr.update(choices=models), gr.update(choices=models)

    def problems(self, dataset_id: Any) -> dict[str, Any]:
        with self.app.session() as session:
            problems = catalog.problem_choices(
                session, dataset_id=int(dataset_id) if dataset_id else None, split=None
            )
        return gr.update(choices=problems, value=problems[0][1] if problems else None)

    def start(
        self, problem_id: Any, typed: str, decomposer: Any, solver: Any, request: gr.Request | None = None
    ) -> tuple[dict[str, Any], str, Frame, Frame, Frame, str, str, int]:
        """A fresh session; a typed question wins over the picked problem."""
        user = self.app.current_user(request)  # a viewer may only use the offered models
        try:
            with self.app.session() as session:
                state = stepthrough.start(
                    session,
                    decomposer=model_spec(self.app, session, decomposer, user),
                    solver=model_spec(self.app, session, solver, user),
                    problem_id=None if (typed or "").strip() else (int(problem_id) if problem_id else None),
                    question=typed,
                )
                reference, teacher, gold = stepthrough.companions(session, problem_id=state.problem_id)
        except (ValueError, LookupError, PathNotAllowed) as error:
            raise user_error(str(error)) from error
        empty = trace_frame(state, reveal_mode=False, revealed=0)
        return (state.to_json(), state.question, empty, _steps_frame(teacher), _steps_frame(reference),
                gold or "", S.STARTED, 0)  # fmt: skip

    def next_step(
        self,
        state_data: dict[str, Any],
        table: Any,
        reveal_mode: bool,
        revealed: int,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[dict[str, Any], Frame, str, str]]:
        """Yields after the sub-question, then after its answer, so the page shows each as it comes."""
        state = apply_edits(_session(state_data), table)
        checked_specs(self.app, request, state.decomposer, state.solver)  # the state came from the browser
        shown = int(revealed or 0)
        try:
            with self.app.session() as session:
                if state.pending is None:
                    yield (
                        state.to_json(),
                        trace_frame(state, reveal_mode=reveal_mode, revealed=shown),
                        "",
                        S.THINKING_QUESTION,
                    )
                    state = stepthrough.ask_next(state, _loaded(session, state.decomposer))
                if state.pending is not None:
                    frame = trace_frame(state, reveal_mode=reveal_mode, revealed=shown)
                    yield (
                        state.to_json(),
                        frame,
                        "",
                        inert(S.THINKING_ANSWER.format(question=state.pending.sub_question)),
                    )
                    state = stepthrough.answer_pending(state, _loaded(session, state.solver))
        except (ValueError, LookupError, OSError) as error:
            raise user_error(str(error)) from error
        answer = stepthrough.final_answer(state) or ""
        status = (
            inert(S.FINISHED.format(answer=answer or "-"))
            if state.finished
            else S.READY.format(number=len(state.pairs))
        )
        yield state.to_json(), trace_frame(state, reveal_mode=reveal_mode, revealed=shown), answer, status

    def reveal(self, state_data: dict[str, Any], revealed: int, reveal_mode: bool) -> tuple[Frame, int]:
        state = _session(state_data)
        shown = min(int(revealed or 0) + 1, len(state.pairs))
        return trace_frame(state, reveal_mode=reveal_mode, revealed=shown), shown

    def save(self, state_data: dict[str, Any], table: Any, request: gr.Request) -> str:
        user = self.app.require(request, Role.annotator)
        state = apply_edits(_session(state_data), table)
        with self.app.session() as session:
            try:
                rationale = stepthrough.save_trace(session, state, author=user)
            except (ValueError, LookupError, PermissionDenied) as error:
                raise user_error(str(error)) from error
        return inert(S.SAVED.format(id=rationale.id, verdict=rationale.verdict))

    def export(self, state_data: dict[str, Any], table: Any, fmt: str) -> dict[str, Any]:
        """A downloadable file (Markdown or HTML) of the trace as it stands, edits included."""
        state = apply_edits(_session(state_data), table)
        text = stepthrough.trace_html(state) if fmt == "html" else stepthrough.trace_markdown(state)
        folder = Path(tempfile.mkdtemp(prefix="socratic-trace-"))
        path = folder / f"trace.{'html' if fmt == 'html' else 'md'}"
        path.write_text(text, encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    def export_markdown(self, state_data: dict[str, Any], table: Any) -> dict[str, Any]:
        return self.export(state_data, table, "markdown")

    def export_html(self, state_data: dict[str, Any], table: Any) -> dict[str, Any]:
        return self.export(state_data, table, "html")
