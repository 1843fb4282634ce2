from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.student_formats import (
    END_MARKER,
    MissingSubQuestions,
    StepText,
    cot_prompt,
    decomposer_prompt,
    examples_for,
    solver_prompt,
)
from db.models import StudentKind

STEPS = [
    StepText("How much does Tom spend on pens?", "Tom spends 3 * 5 = <<3*5=15>>15 dollars."),
    StepText("How much is left?", "He has 20 - 15 = <<20-15=5>>5 dollars left."),
]


def test_decomposer_yields_one_example_per_step_plus_the_end_marker():
    examples = examples_for(StudentKind.decomposer, "Q?", STEPS, "5")
    assert [e.completion for e in examples] == [
        " How much does Tom spend on pens?",
        " How much is left?",
        f" {END_MARKER}",
    ]
    assert examples[1].prompt == decomposer_prompt("Q?", STEPS[:1])


def test_solver_prompt_matches_what_inference_builds():
    examples = examples_for(StudentKind.solver, "Q?", STEPS, "5")
    assert examples[1].prompt == solver_prompt("Q?", STEPS[:1], "How much is left?")
    assert examples[1].prompt.endswith("Q2: How much is left?\nA2:")
    assert examples[1].completion == " He has 20 - 15 = <<20-15=5>>5 dollars left."


def test_unified_is_decomposer_plus_solver():
    assert len(examples_for(StudentKind.unified, "Q?", STEPS, "5")) == 3 + 2


def test_cot_and_answer_only_end_with_the_answer():
    cot = examples_for(StudentKind.cot, "Q?", STEPS, "5")[0]
    assert cot.prompt == cot_prompt("Q?") and cot.completion.endswith("So the answer is: 5")
    answer_only = examples_for(StudentKind.answer_only, "Q?", STEPS, "5")[0]
    assert answer_only.completion == " So the answer is: 5"


def test_decompose_only_lists_sub_questions():
    example = examples_for(StudentKind.decompose_only, "Q?", STEPS, "5")[0]
    assert example.completion == "\n1. How much does Tom spend on pens?\n2. How much is left?"


@pytest.mark.parametrize("kind", [StudentKind.decomposer, StudentKind.solver, StudentKind.decompose_only])
def test_socratic_kinds_need_sub_questions(kind):
    with pytest.raises(MissingSubQuestions):
        examples_for(kind, "Q?", [StepText(None, "3 * 5 = 15")], "15")


def test_chat_messages():
    messages = examples_for(StudentKind.cot, "Q?", STEPS, "5")[0].as_messages()
    assert [m["role"] for m in messages] == ["user", "assistant"]


@given(st.lists(st.tuples(st.text(min_size=1).filter(str.strip), st.text()), min_size=1, max_size=6))
def test_every_decomposer_prompt_extends_the_previous(pairs):
    steps = [StepText(q, a) for q, a in pairs]
    prompts = [e.prompt for e in examples_for(StudentKind.decomposer, "Problem text", steps, "1")]
    assert len(prompts) == len(steps) + 1
    for earlier, later in pairwise(prompts):
        assert later.startswith(earlier.rsplit("\n", 1)[0])
