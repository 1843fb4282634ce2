"""The Socratic loop's stop rules and batching (scripted decomposer/solver), model specs, single steps."""

import re

import pytest

from backend.evaluation.socratic import (
    LoopParams,
    answer_sub_question,
    load_model,
    next_sub_question,
    parse_model_spec,
    solve_socratic,
)
from backend.student_formats import END_MARKER, StepText, decomposer_prompt, solver_prompt
from db.models import ModelCheckpoint, StudentKind
from tests.backend.evaluation.scripted import ScriptedBackend


def asked(prompt: str) -> int:
    """How many sub-questions a prompt already holds."""
    return len(re.findall(r"^Q\d+: ", prompt, flags=re.MULTILINE))


def decomposer_rule(prompt: str) -> str:
    """'ends after 2' stops with END after two steps; 'repeats' asks the same question again (and its
    solver answers it as before); 'loops' never ends; 'silent' writes nothing."""
    if "silent" in prompt:
        return "\n"
    if "repeats" in prompt:
        return " How much is it?\nA1: junk"
    if "ends after 2" in prompt and asked(prompt) >= 2:
        return f" {END_MARKER}"
    return f" Question number {asked(prompt)}?\nQ9: runaway"


def solver_rule(prompt: str) -> str:
    if prompt.endswith(">>"):  # resumed after the calculator closed an annotation: copy its result
        return f"{prompt.rsplit('=', 1)[1].rstrip('>')}.\nA9: runaway"
    if "repeats" in prompt:
        return " It is 7.\n"  # at the second step, the first answer again: no new step
    number = asked(prompt)  # includes the new sub-question
    return (
        f" Step {number}: {number} * 10 = <<{number}*10={number * 10}>>{number * 10}.\nA{number + 1}: runaway"
    )


QUESTIONS = ["It ends after 2 steps.", "It repeats itself.", "It loops forever.", "It is silent."]


def test_the_loop_stops_on_end_repeat_cap_and_silence():
    decomposer, solver = ScriptedBackend(decomposer_rule), ScriptedBackend(solver_rule)
    traces = solve_socratic(decomposer, solver, QUESTIONS, LoopParams(max_steps=4))
    assert [t.stop_reason for t in traces] == ["end", "repeat", "cap", "empty"]
    assert [len(t.steps) for t in traces] == [2, 1, 4, 0]
    ends = traces[0]
    assert [s.sub_question for s in ends.steps] == ["Question number 0?", "Question number 1?"]
    assert ends.steps[1].answer == "Step 2: 2 * 10 = <<2*10=20>>20."  # one line: cut at the newline
    assert ends.final_answer == "20"  # the number of the last sub-answer
    assert traces[2].final_answer == "40" and traces[3].final_answer is None
    assert ends.raw_text.startswith("Q1: Question number 0?\nA1: Step 1") and ends.raw_text.endswith(
        "[stop: end]"
    )
    assert all(s.tokens > 0 and s.tokens_in > 0 and s.latency_s >= 0 for s in ends.steps)
    assert ends.tokens == sum(s.tokens + s.tokens_in for s in ends.steps) + 1 + len(
        decomposer.calls[2][0].split()
    )


def test_every_active_problem_at_a_step_goes_in_one_batch():
    decomposer, solver = ScriptedBackend(decomposer_rule), ScriptedBackend(solver_rule)
    solve_socratic(decomposer, solver, QUESTIONS, LoopParams(max_steps=4))
    assert [len(batch) for batch in decomposer.calls] == [4, 3, 2, 1]  # silent, repeat, end drop out in turn
    # Each solver batch is followed by one batch resuming the texts the calculator paused.
    assert [len(batch) for batch in solver.calls] == [3, 2, 3, 2, 1, 1, 1, 1]
    # The prompts are the training formats, byte for byte.
    assert decomposer.calls[0][0] == decomposer_prompt(QUESTIONS[0], [])
    assert solver.calls[0][0] == solver_prompt(QUESTIONS[0], [], "Question number 0?")


def test_the_calculator_corrects_a_solver_claim_in_the_loop():
    def bad_solver(prompt: str) -> str:
        return (
            f"{prompt.rsplit('=', 1)[1].rstrip('>')} apples."
            if prompt.endswith(">>")
            else " 6 * 7 = <<6*7=43>>43 apples."
        )

    decomposer = ScriptedBackend(lambda p: " How many apples?" if asked(p) == 0 else f" {END_MARKER}")
    [trace] = solve_socratic(decomposer, ScriptedBackend(bad_solver), ["Apples?"])
    assert trace.steps[0].answer == "6 * 7 = <<6*7=42>>42 apples." and trace.final_answer == "42"
    assert trace.steps[0].calculator == [{"expression": "6*7", "claimed": "43", "computed": "42"}]
    [raw] = solve_socratic(decomposer, ScriptedBackend(bad_solver), ["Apples?"], LoopParams(calculator=False))
    assert raw.final_answer == "43"


def test_single_steps_for_the_step_through():
    decomposer, solver = ScriptedBackend(decomposer_rule), ScriptedBackend(solver_rule)
    pairs = [StepText("Question number 0?", "10.")]
    assert next_sub_question(decomposer, "It ends after 2 steps.", pairs) == "Question number 1?"
    done = [*pairs, StepText("Question number 1?", "20.")]
    assert next_sub_question(decomposer, "It ends after 2 steps.", done) is None
    assert answer_sub_question(solver, "x", pairs, "Question number 1?") == "Step 2: 2 * 10 = <<2*10=20>>20."


def test_model_specs(session, tiny_llama):
    checkpoint = ModelCheckpoint(name="my-decomposer", role=StudentKind.decomposer, path=str(tiny_llama))
    session.add(checkpoint)
    session.commit()
    assert parse_model_spec(session, "my-decomposer") == {"checkpoint_id": checkpoint.id}
    assert parse_model_spec(session, str(checkpoint.id)) == {"checkpoint_id": checkpoint.id}
    assert parse_model_spec(session, "vllm:default") == {"backend": "vllm", "model": "default"}
    with pytest.raises(LookupError, match="'gpt-4o-mini' is not a model you can use here"):
        parse_model_spec(session, "openai:gpt-4o-mini")  # no endpoint of that name is configured
    with pytest.raises(LookupError, match="not a model you can use here; choose a registered checkpoint"):
        parse_model_spec(session, "nothing-like-this")
    with pytest.raises(ValueError, match="needs checkpoint_id"):
        load_model(session, {"model": "x"})
    with pytest.raises(LookupError, match="no checkpoint with id 999"):
        load_model(session, {"checkpoint_id": 999})
    backend = load_model(session, {"checkpoint_id": checkpoint.id}, batch_size=2)
    assert backend.name == "transformers" and backend.model == str(tiny_llama)
    backend.close()
