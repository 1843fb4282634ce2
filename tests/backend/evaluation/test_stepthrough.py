"""Step-through sessions: JSON state, edits, saving a trace as a rationale, safe exports, tiny models."""

from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sqlmodel import Session, select

from backend.annotation import list_revisions
from backend.evaluation import stepthrough
from backend.evaluation.socratic import load_model
from backend.evaluation.stepthrough import Pair, StepSession
from db.models import Dataset, Problem, Rationale, User
from tests.webapp.seed import XSS_QUESTION, make_users, seed_rationales

SPEC = {"backend": "transformers", "model": "unused"}


def _session(question: str = "What is 3 * 5?", pairs: list[Pair] | None = None) -> StepSession:
    return StepSession(question=question, decomposer=SPEC, solver=SPEC, pairs=pairs or [])


def test_state_round_trips_through_json_and_edits_reopen_a_finished_session() -> None:
    state = _session(pairs=[Pair("What is 3 * 5?", "3 * 5 = 15"), Pair("Anything else?")])
    state.finished = True
    assert StepSession.from_json(state.to_json()) == state
    assert state.pending == Pair("Anything else?")
    edited = stepthrough.edit_pairs(state, [("What is 3 times 5?", "15"), ("  ", "dropped")])
    assert edited.pairs == [Pair("What is 3 times 5?", "15")] and not edited.finished
    assert stepthrough.final_answer(edited) == "15"


def test_start_needs_a_question_and_both_models(session: Session) -> None:
    with pytest.raises(ValueError, match="pick a problem or type a question"):
        stepthrough.start(session, decomposer=SPEC, solver=SPEC, question="  ")
    with pytest.raises(ValueError, match="decomposer and a solver"):
        stepthrough.start(session, decomposer={}, solver=SPEC, question="2+2?")
    with pytest.raises(LookupError):
        stepthrough.start(session, decomposer=SPEC, solver=SPEC, problem_id=999)


def test_saving_a_trace_of_a_stored_problem_grades_it(session: Session) -> None:
    users = make_users(session)
    rationales = seed_rationales(session)
    problem = session.get(Problem, rationales[0].problem_id)
    assert problem is not None
    state = _session(problem.question, [Pair("How many pens in all?", "2 * 5 = 10 pens.")])
    state.problem_id = problem.id
    saved = stepthrough.save_trace(session, state, author=users["alice"])
    assert saved.source == "student" and saved.verdict == "correct" and saved.final_answer == "10"
    assert list_revisions(session, rationale_id=saved.id or 0)[0].author_id == users["alice"].id
    again = stepthrough.save_trace(session, state, author=users["alice"])
    assert again.id != saved.id and again.sample_index == saved.sample_index + 1


def test_a_typed_question_gets_its_own_problem_once(session: Session) -> None:
    user: User = make_users(session)["bob"]
    state = _session(pairs=[Pair("What is 3 * 5?", "15")])
    first = stepthrough.save_trace(session, state, author=user)
    second = stepthrough.save_trace(session, state, author=user)
    assert first.problem_id == second.problem_id
    dataset = session.exec(select(Dataset).where(Dataset.name == stepthrough.TYPED_DATASET)).one()
    assert first.dataset_id == dataset.id and first.verdict == "unchecked"
    with pytest.raises(ValueError, match="no answered step"):
        stepthrough.save_trace(session, _session(pairs=[Pair("pending?")]), author=user)


def test_exports_escape_untrusted_text() -> None:
    state = _session(XSS_QUESTION, [Pair("**bold**? <b>", 'x <img src=x onerror="alert(1)">')])
    rendered = MarkdownIt("commonmark").render(stepthrough.trace_markdown(state))
    assert "<script" not in rendered and "<img" not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;" in rendered
    page = stepthrough.trace_html(state)
    assert (
        "<script>" not in page
        and "<img" not in page
        and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    )


def test_companions_give_reference_and_best_teacher_steps(session: Session) -> None:
    rationales = seed_rationales(session)
    reference, teacher, gold = stepthrough.companions(session, problem_id=rationales[0].problem_id)
    assert [s.text for s in reference] == ["5 pens.", "2 * 5 = 10"] and gold == "10"
    assert teacher[1].text.endswith("10 pens.")  # the correct sample first
    assert stepthrough.companions(session, problem_id=None) == ([], [], None)


def test_steps_with_a_tiny_model(session: Session, tiny_gpt2: Path) -> None:
    spec = {"backend": "transformers", "model": str(tiny_gpt2)}
    state = stepthrough.start(session, decomposer=spec, solver=spec, question="Tom has 3 boxes of 5 pens.")
    model = load_model(session, spec)
    state = stepthrough.ask_next(state, model)
    if state.finished:
        pytest.skip("the random decomposer ended at once")
    assert state.pending is not None
    state = stepthrough.answer_pending(state, model)
    assert state.pending is None and state.pairs[0].answer is not None
    assert stepthrough.ask_next(state, model).pairs[0] == state.pairs[0]
    assert session.exec(select(Rationale)).first() is None  # stepping stores nothing until a save


def test_a_tampered_state_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="press Start again"):
        StepSession.from_json({"question": "x", "decomposer": "rm -rf", "solver": SPEC})
    with pytest.raises(ValueError, match="press Start again"):
        StepSession.from_json({"question": "x", "decomposer": SPEC, "solver": SPEC, "pairs": [{"a": 1}]})
    state = StepSession.from_json({"question": "x", "decomposer": SPEC, "solver": SPEC, "max_steps": 10**9,
                                   "unknown": 1})  # fmt: skip
    assert state.max_steps == 32  # bounded: a huge cap cannot keep the shared model busy
