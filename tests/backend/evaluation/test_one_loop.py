"""Step-through and evaluation run one Socratic loop: a scripted decomposer and solver driven through
both give identical traces (sub-questions, answers, calculator corrections, stop reason, final answer).

The scripted model is a test double of a TeacherBackend (text chosen by a rule, cut at the call's stop
strings as real backends do); real tiny checkpoints run in the worker and evaluation-job tests."""

import re

from backend.evaluation import stepthrough
from backend.evaluation.socratic import LoopParams, solve_socratic
from backend.evaluation.stepthrough import StepSession
from backend.evaluation.traces import Trace
from backend.student_formats import END_MARKER
from tests.backend.evaluation.scripted import ScriptedBackend

SPEC = {"backend": "transformers", "model": "unused"}


def _asked(prompt: str) -> int:
    return len(re.findall(r"^Q\d+: ", prompt, flags=re.MULTILINE))


def decomposer_rule(prompt: str) -> str:
    """Each problem exercises one stop rule: the end marker, a repeated step (the question asked again in
    other case and punctuation, its answer the same after normalisation), the step cap, and silence at the
    first step."""
    number = _asked(prompt)
    if "silent" in prompt:
        return "\n"
    if "repeats" in prompt:
        return " How many pens, in all?\n" if number == 0 else " how many PENS in all\n"
    if "ends" in prompt and number >= 2:
        return f" {END_MARKER}\n"
    return f" What is step {number}?\nQ9: runaway"


def solver_rule(prompt: str) -> str:
    if prompt.endswith(">>"):  # resumed after the calculator closed an annotation
        return f" so {prompt.rsplit('=', 1)[1].rstrip('>')} in all.\nA9: runaway"
    if "repeats" in prompt and (earlier := re.findall(r"^A\d+: (.*)$", prompt, flags=re.MULTILINE)):
        return f" {earlier[-1].upper()}!\n"  # the previous answer again, in other case and punctuation
    number = _asked(prompt)
    wrong = number * 7 + 1  # a wrong claim the calculator must replace
    return f" {number} * 7 = <<{number}*7={wrong}>>{wrong}\nA9: runaway"


QUESTIONS = ["It ends after 2 steps.", "It repeats itself.", "It loops forever.", "It is silent."]


def _step_through(question: str, params: LoopParams) -> StepSession:
    """What the page does: Next step (ask, then answer) until the session is finished."""
    decomposer, solver = ScriptedBackend(decomposer_rule), ScriptedBackend(solver_rule)
    state = StepSession(question=question, decomposer=SPEC, solver=SPEC, max_steps=params.max_steps)
    for _ in range(3 * params.max_steps):  # a loop that never finishes fails below instead of hanging
        if state.finished:
            break
        state = stepthrough.answer_pending(stepthrough.ask_next(state, decomposer), solver)
        state = StepSession.from_json(state.to_json())  # the page keeps the state as JSON between clicks
    return state


def _trace_view(trace: Trace) -> tuple[object, ...]:
    steps = [(s.sub_question, s.answer, s.calculator) for s in trace.steps]
    return steps, trace.stop_reason, trace.final_answer


def _session_view(state: StepSession) -> tuple[object, ...]:
    steps = [(p.sub_question, p.answer, p.calculator) for p in state.pairs]
    return steps, state.stop_reason, stepthrough.final_answer(state)


def test_step_through_and_evaluation_give_identical_traces() -> None:
    params = LoopParams(max_steps=4)
    traces = solve_socratic(ScriptedBackend(decomposer_rule), ScriptedBackend(solver_rule), QUESTIONS, params)
    sessions = [_step_through(question, params) for question in QUESTIONS]
    assert [_session_view(s) for s in sessions] == [_trace_view(t) for t in traces]
    # The traces exercise every stop rule and the calculator (not an agreement on empty traces).
    assert [t.stop_reason for t in traces] == ["end", "repeat", "cap", "empty"]
    first = traces[0].steps[0]
    assert first.answer == "1 * 7 = <<1*7=7>> so 7 in all." and first.calculator[0]["claimed"] == "8"
    assert traces[2].final_answer == "28" and len(traces[2].steps) == 4


def test_edited_pairs_continue_the_same_loop() -> None:
    """After an edit, the next step sees the edited pairs, as evaluation would with those pairs."""
    decomposer, solver = ScriptedBackend(decomposer_rule), ScriptedBackend(solver_rule)
    state = StepSession(question=QUESTIONS[1], decomposer=SPEC, solver=SPEC)
    state = stepthrough.answer_pending(stepthrough.ask_next(state, decomposer), solver)
    state = stepthrough.edit_pairs(state, [("How many pens in all?", "12")])
    state = stepthrough.answer_pending(stepthrough.ask_next(state, decomposer), solver)
    # The solver saw the edited pair: it repeated "12", so the step is dropped and the session ends.
    assert state.finished and state.stop_reason == "repeat" and stepthrough.final_answer(state) == "12"
    assert [(p.sub_question, p.answer) for p in state.pairs] == [("How many pens in all?", "12")]


def test_a_repeated_question_gets_its_answer_and_the_loop_goes_on() -> None:
    """The decomposer asking the same thing again is no stop: the solver, one step further, may write the
    next step; only an answer given before ends the loop (both paths, as above)."""
    params = LoopParams(max_steps=3)
    question = "It asks again."

    def decomposer(prompt: str) -> str:
        return " How many pens?\n"

    def solver(prompt: str) -> str:
        return f" {_asked(prompt) * 5} pens.\n"

    [trace] = solve_socratic(ScriptedBackend(decomposer), ScriptedBackend(solver), [question], params)
    state = StepSession(question=question, decomposer=SPEC, solver=SPEC, max_steps=params.max_steps)
    while not state.finished:
        state = stepthrough.answer_pending(
            stepthrough.ask_next(state, ScriptedBackend(decomposer)), ScriptedBackend(solver)
        )
    assert _session_view(state) == _trace_view(trace)
    assert [s.answer for s in trace.steps] == [
        "5 pens.",
        "10 pens.",
        "15 pens.",
    ] and trace.stop_reason == "cap"
