"""Step-through sessions: one problem, a decomposer and a solver, advanced one sub-question at a time.

The state is a small JSON-able dataclass (the web page keeps it per browser tab, so it is checked again
when it comes back); `ask_next` / `answer_pending` run the evaluation loop's own functions
(backend.evaluation.socratic: prompts, stop rules, calculator, final answer) on whatever model they are
given; in the app that is the model worker's (backend.model_worker). A finished (or partial) trace can be
saved as a new rationale (source "student") for curation, or exported as Markdown or HTML (escaped: the
text is untrusted).
"""

import hashlib
import html
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlmodel import Session, col, select

from backend.checks.answers import grade
from backend.checks.step_checks import reference_values
from backend.display.inert_text import markdown_literal
from backend.evaluation.generate import Generated
from backend.evaluation.socratic import (
    DEFAULT_MAX_STEPS,
    LoopParams,
    decide,
    propose,
    reached_cap,
    repeats_step,
    socratic_final_answer,
    sub_answer,
)
from backend.evaluation.socratic import answer as solver_answers
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from backend.teacher.base import TeacherBackend
from db.models import Dataset, Problem, Rationale, RationaleSource, User, Verdict

TYPED_DATASET = "typed-problems"  # problems typed into the step-through page live in this dataset


@dataclass
class Pair:
    sub_question: str
    answer: str | None = None  # None until the solver has answered
    calculator: list[dict[str, Any]] = field(default_factory=list)  # claims the calculator corrected


@dataclass
class StepSession:
    question: str
    decomposer: dict[str, Any]
    solver: dict[str, Any]
    problem_id: int | None = None
    pairs: list[Pair] = field(default_factory=list)
    finished: bool = False
    max_steps: int = DEFAULT_MAX_STEPS
    answer_type: str = "numeric"
    stop_reason: str | None = None  # end, empty, repeat or cap once finished (as in evaluation traces)
    reference_values: list[str] = field(default_factory=list)  # a dataset problem's reference step values

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StepSession":
        """The page's copy of the state, checked: it comes back from the browser and may be tampered with."""
        try:
            known = {f.name for f in fields(cls)}
            values = {key: value for key, value in dict(data).items() if key in known}
            values["pairs"] = [_pair(pair) for pair in values.get("pairs") or []]
            values["reference_values"] = [str(value) for value in values.get("reference_values") or []]
            state = cls(**values)
        except (TypeError, ValueError, AttributeError, KeyError) as error:
            raise ValueError(f"the step-through state is not valid ({error}); press Start again") from error
        if not isinstance(state.decomposer, dict) or not isinstance(state.solver, dict):
            raise ValueError("the step-through state is not valid; press Start again")
        state.max_steps = max(1, min(int(state.max_steps), 4 * DEFAULT_MAX_STEPS))
        return state

    def answered(self) -> list[StepText]:
        return [StepText(p.sub_question, p.answer) for p in self.pairs if p.answer is not None]

    @property
    def pending(self) -> Pair | None:
        """The last sub-question if the solver has not answered it yet."""
        return self.pairs[-1] if self.pairs and self.pairs[-1].answer is None else None

    def loop_params(self) -> LoopParams:
        return LoopParams(max_steps=self.max_steps, answer_type=self.answer_type)


def _pair(data: Any) -> Pair:
    answer_text = data.get("answer")
    return Pair(
        sub_question=str(data["sub_question"]),
        answer=None if answer_text is None else str(answer_text),
        calculator=[dict(item) for item in data.get("calculator") or []],
    )


def start(
    session: Session, *, decomposer: dict[str, Any], solver: dict[str, Any], problem_id: int | None = None,
    question: str | None = None,
) -> StepSession:  # fmt: skip
    """A new session for a stored problem, or for a typed question when no problem is given."""
    problem = None
    if problem_id is not None:
        problem = session.get(Problem, problem_id)
        if problem is None:
            raise LookupError(f"no problem with id {problem_id}")
        question = problem.question
    if not (question or "").strip():
        raise ValueError("pick a problem or type a question")
    if not decomposer or not solver:
        raise ValueError("choose both a decomposer and a solver")
    return StepSession(
        question=(question or "").strip(), decomposer=decomposer, solver=solver, problem_id=problem_id,
        answer_type=_answer_type(session, problem),
        reference_values=reference_values(problem.gold_steps) if problem else [],
    )  # fmt: skip


def _finish(state: StepSession, reason: str) -> StepSession:
    state.finished, state.stop_reason = True, reason
    return state


def _raise_if_failed(generated: Generated) -> None:
    """A refused prompt (too long) or a failed request ends the step with its reason, not an empty text
    read as the decomposer's end."""
    if generated.error:
        raise RuntimeError(generated.error)


def ask_next(
    state: StepSession, decomposer: TeacherBackend, *, params: LoopParams | None = None
) -> StepSession:
    """The decomposer's next sub-question (unanswered), or the session finished by a stop rule: the
    evaluation loop's own functions (backend.evaluation.socratic), one problem at a time."""
    if state.finished or state.pending is not None:
        return state
    params = params or state.loop_params()
    answered = state.answered()
    if reached_cap(len(answered), params):
        return _finish(state, "cap")
    generation = params.generation(params.question_tokens, len(answered))
    [generated] = propose(decomposer, [(state.question, answered)], generation)
    _raise_if_failed(generated)
    sub_question, reason = decide(generated.text, [pair.sub_question for pair in answered])
    if sub_question is None:
        return _finish(state, reason or "end")
    state.pairs.append(Pair(sub_question=sub_question))
    return state


def answer_pending(
    state: StepSession, solver: TeacherBackend, *, params: LoopParams | None = None
) -> StepSession:
    """The solver's answer to the pending sub-question (nothing happens when none is pending)."""
    pending = state.pending
    if pending is None:
        return state
    params = params or state.loop_params()
    answered = state.answered()
    generation = params.generation(params.answer_tokens, len(answered))
    items = [(state.question, answered, pending.sub_question)]
    [generated] = solver_answers(solver, items, generation, calculator=params.calculator)
    _raise_if_failed(generated)
    answer = sub_answer(generated.text)
    if repeats_step(answer, [pair.text for pair in answered]):
        state.pairs = [pair for pair in state.pairs if pair is not pending]  # no new step, as in evaluation
        return _finish(state, "repeat")
    pending.answer, pending.calculator = answer, generated.calculator
    if reached_cap(len(answered) + 1, params):
        _finish(state, "cap")  # as in evaluation: the trace ends with the step that reached the cap
    return state


def edit_pairs(state: StepSession, pairs: list[tuple[str, str | None]]) -> StepSession:
    """Replace the pairs with the user's edits (empty sub-questions dropped); the next step builds on them."""
    old = {(p.sub_question, p.answer): p.calculator for p in state.pairs}
    edited = [
        Pair(sub_question=q.strip(), answer=a, calculator=old.get((q.strip(), a), []))
        for q, a in pairs
        if q.strip()
    ]
    if edited != state.pairs:
        state.pairs, state.finished, state.stop_reason = edited, False, None
    return state


def _answer_type(session: Session, problem: Problem | None) -> str:
    dataset = session.get(Dataset, problem.dataset_id) if problem else None
    return dataset.answer_type if dataset else "numeric"


def final_answer(state: StepSession) -> str | None:
    """The Socratic answer: read from the last sub-answer (the evaluation loop's rule)."""
    answered = state.answered()
    return socratic_final_answer([step.text for step in answered], state.answer_type) if answered else None


def _typed_problem(session: Session, question: str) -> Problem:
    """The stored problem for a typed question (one per distinct text), in the typed-problems dataset."""
    dataset = session.exec(select(Dataset).where(Dataset.name == TYPED_DATASET)).first()
    if dataset is None:
        dataset = Dataset(name=TYPED_DATASET, source="manual", description="Questions typed in step-through")
        session.add(dataset)
        session.flush()
    digest = hashlib.sha256(question.encode("utf-8")).hexdigest()
    problem = session.exec(
        select(Problem).where(Problem.dataset_id == dataset.id, Problem.external_id == digest[:32])
    ).first()
    if problem is None:
        assert dataset.id is not None
        problem = Problem(
            dataset_id=dataset.id, external_id=digest[:32], question=question, content_hash=digest
        )
        session.add(problem)
        session.flush()
    return problem


def save_trace(session: Session, state: StepSession, *, author: User) -> Rationale:
    """Store the answered pairs as a new rationale (source "student", revision 1 by `author`)."""
    steps = state.answered()
    if not steps:
        raise ValueError("the trace has no answered step yet; press Next step first")
    problem = (
        session.get(Problem, state.problem_id)
        if state.problem_id
        else _typed_problem(session, state.question)
    )
    if problem is None:
        raise LookupError(f"no problem with id {state.problem_id}")
    answer_type = _answer_type(session, problem)
    answer = final_answer(state)
    draft = RationaleDraft(
        steps=steps,
        final_answer=answer,
        raw_text=trace_text(state),
        verdict=grade(answer, problem.gold_answer, answer_type) if answer else Verdict.unparseable,
    )
    last = session.exec(
        select(Rationale.sample_index)
        .where(Rationale.problem_id == problem.id, col(Rationale.run_id).is_(None))
        .order_by(col(Rationale.sample_index).desc())
        .limit(1)
    ).first()
    draft.sample_index = (last or 0) + 1  # several saved traces of one problem stay distinct
    rationale = add_rationale(
        session, problem=problem, draft=draft, source=RationaleSource.student, author_id=author.id
    )
    session.commit()
    session.refresh(rationale)
    return rationale


def companions(
    session: Session, *, problem_id: int | None
) -> tuple[list[StepText], list[StepText], str | None]:
    """The problem's reference steps, its best teacher rationale's steps (correct first), and gold answer."""
    problem = session.get(Problem, problem_id) if problem_id else None
    if problem is None:
        return [], [], None
    reference = [StepText(s.get("sub_question"), s.get("text", "")) for s in problem.gold_steps]
    rationale = session.exec(
        select(Rationale)
        .where(Rationale.problem_id == problem.id, Rationale.source == RationaleSource.teacher)
        .order_by(col(Rationale.verdict) != Verdict.correct, col(Rationale.id))
        .limit(1)
    ).first()
    teacher: list[StepText] = []
    if rationale is not None:
        from backend.annotation import get_rationale_view

        teacher = get_rationale_view(session, rationale_id=rationale.id or 0).steps
    return reference, teacher, problem.gold_answer


def trace_text(state: StepSession) -> str:
    lines = []
    for number, pair in enumerate(state.pairs, start=1):
        lines += [f"Q{number}: {pair.sub_question}", f"A{number}: {pair.answer or ''}"]
    return "\n".join(lines)


def trace_markdown(state: StepSession) -> str:
    """The trace as Markdown whose text renders literally (HTML and Markdown syntax escaped)."""
    lines = ["# Step-through trace", "", f"**Problem.** {markdown_literal(state.question)}", ""]
    for number, pair in enumerate(state.pairs, start=1):
        lines.append(f"{number}. **{markdown_literal(pair.sub_question)}**  ")
        lines.append(f"   {markdown_literal(pair.answer or '(not answered)')}")
    answer = final_answer(state)
    lines += ["", f"**Final answer:** {markdown_literal(answer or '(none)')}", ""]
    return "\n".join(lines)


def trace_html(state: StepSession) -> str:
    """The trace as a standalone HTML page; every piece of model or user text is escaped."""
    items = "".join(
        f"<li><p><strong>{html.escape(pair.sub_question)}</strong></p>"
        f"<p>{html.escape(pair.answer or '(not answered)')}</p></li>"
        for pair in state.pairs
    )
    answer = html.escape(final_answer(state) or "(none)")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Step-through trace</title></head><body>"
        f"<h1>Step-through trace</h1><p><strong>Problem.</strong> {html.escape(state.question)}</p>"
        f"<ol>{items}</ol><p><strong>Final answer:</strong> {answer}</p></body></html>"
    )
