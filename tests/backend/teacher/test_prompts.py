"""Prompt templates per mode: defaults, validation with clear errors, rendering and per-problem prompts."""

import pytest
from sqlmodel import Session

from backend.access.limits import MAX_TEMPLATE_CHARS
from backend.teacher.prompts import (
    default_few_shot,
    default_template,
    problem_prompts,
    render_prompt,
    validate_few_shot,
    validate_template,
)
from db.models import TeacherMode
from tests.factories import make_dataset, make_problem

QUESTION = "Tom has 3 boxes of 5 pens. How many pens does he have?"


@pytest.mark.parametrize("mode", list(TeacherMode))
def test_default_templates_and_examples_render_for_every_mode(mode: TeacherMode) -> None:
    validate_template(mode, default_template(mode))
    validate_few_shot(mode, default_few_shot())
    prompt = render_prompt(mode, question=QUESTION, step="Tom has 3 * 5 = <<3*5=15>>15 pens.")
    assert (QUESTION in prompt) == (mode != TeacherMode.rationalize)  # rationalize shows only the step
    assert "{" not in prompt
    assert "muffins" in prompt  # the few-shot block is in


def test_cot_prompt_ends_with_the_answer_cue_and_shows_the_gold_hint_only_when_asked() -> None:
    plain = render_prompt(TeacherMode.cot, question=QUESTION)
    assert plain.endswith(f"Question: {QUESTION}\nAnswer:\n")
    assert "Hint" not in plain
    hinted = render_prompt(TeacherMode.cot, question=QUESTION, gold_answer="15")
    assert "Hint: the correct answer is 15.\nAnswer:\n" in hinted


def test_socratic_examples_are_numbered_pairs_and_the_prompt_cues_q1() -> None:
    prompt = render_prompt(TeacherMode.socratic, question=QUESTION)
    assert (
        "Q1: How many muffins does the baker make?\nA1: She makes 4 * 12 = <<4*12=48>>48 muffins.\n" in prompt
    )
    assert prompt.endswith("Q1:")


def test_rationalize_prompt_shows_one_step_without_calculator_annotations() -> None:
    prompt = render_prompt(
        TeacherMode.rationalize, question=QUESTION, step="Tom has 3 * 5 = <<3*5=15>>15 pens."
    )
    assert prompt.endswith("Step: Tom has 3 * 5 = 15 pens.\nQuestion:")
    assert "Step: She makes 4 * 12 = 48 muffins.\nQuestion: How many muffins does the baker make?\n" in prompt
    with pytest.raises(ValueError, match="needs a reference step"):
        render_prompt(TeacherMode.rationalize, question=QUESTION)


def test_custom_template_and_examples_are_used() -> None:
    examples = [
        {"question": "1+1?", "steps": [{"sub_question": "Sum?", "text": "1 + 1 = 2."}], "answer": "2"}
    ]
    prompt = render_prompt(
        TeacherMode.decompose, question=QUESTION, template="{examples}P: {question}\nS:", few_shot=examples
    )
    assert prompt == f"Problem: 1+1?\nSub-questions:\n1. Sum?\n\nP: {QUESTION}\nS:"


@pytest.mark.parametrize(
    ("mode", "template", "message"),
    [
        (TeacherMode.cot, "{question} {answer}", r"unknown placeholder\(s\) \['answer'\]"),
        (TeacherMode.cot, "no question here", r"must contain \{question\}"),
        (TeacherMode.rationalize, "{question}", r"must contain \{step\}"),
        (TeacherMode.rationalize, "{step} {hint}", r"unknown placeholder\(s\) \['hint'\]"),
        (TeacherMode.cot, "{question} {", "not valid"),
    ],
)
def test_bad_templates_are_refused_with_a_clear_message(
    mode: TeacherMode, template: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        validate_template(mode, template)


@pytest.mark.parametrize(
    ("mode", "examples", "message"),
    [
        (
            TeacherMode.cot,
            [{"steps": [{"text": "x"}], "answer": "1"}],
            "example 1: needs a non-empty 'question'",
        ),
        (TeacherMode.cot, [{"question": "q", "steps": [], "answer": "1"}], "list of 'steps'"),
        (TeacherMode.cot, [{"question": "q", "steps": [{"text": "x"}]}], "needs an 'answer'"),
        (
            TeacherMode.socratic,
            [{"question": "q", "steps": [{"text": "x"}], "answer": "1"}],
            "step 1: .*sub_question",
        ),
    ],
)
def test_bad_few_shot_examples_are_refused(mode: TeacherMode, examples: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_few_shot(mode, examples)


def test_problem_prompts_one_per_reference_step_for_rationalize(session: Session) -> None:
    dataset = make_dataset(session)
    steps = [{"text": "Tom has 3 * 5 = 15 pens."}, {"text": "  "}, {"text": "He gives 5 away: 10 left."}]
    problem = make_problem(session, dataset, gold_steps=steps)
    options = {"few_shot": default_few_shot(), "show_gold": True}
    rationalize = problem_prompts(
        TeacherMode.rationalize, problem, template=default_template("rationalize"), **options
    )
    assert len(rationalize) == 2
    assert rationalize[1].endswith("Step: He gives 5 away: 10 left.\nQuestion:")
    cot = problem_prompts(TeacherMode.cot, problem, template=default_template("cot"), **options)
    assert len(cot) == 1 and "Hint: the correct answer is 15." in cot[0]
    bare = make_problem(session, dataset, external_id="p2")
    with pytest.raises(ValueError, match="no reference solution steps"):
        problem_prompts(TeacherMode.rationalize, bare, template=default_template("rationalize"), **options)


@pytest.mark.parametrize(
    "template",
    [
        "{question:>200000000}",  # issue 26: str.format built a 200 MB prompt
        "{question:{question.__class__.__mro__}}",  # and evaluated the nested field
        "{question.__class__.__mro__}",
        "{question[0]}",
        "{question!r}",
        "{}",
        "{ question }",
        "{question} }",
    ],
)
def test_format_specs_attributes_and_stray_braces_are_refused(template: str) -> None:
    with pytest.raises(ValueError, match="not valid"):
        validate_template(TeacherMode.cot, template)
    with pytest.raises(ValueError, match="not valid"):
        render_prompt(TeacherMode.cot, question=QUESTION, template=template)


def test_placeholders_are_replaced_literally_and_doubled_braces_are_braces() -> None:
    template = "{{question}} {{{question}}} {examples}{hint}"
    question = "What is {hint} or {0:>9} in {{braces}}?"
    prompt = render_prompt(TeacherMode.cot, question=question, template=template, few_shot=[])
    assert prompt == "{question} {What is {hint} or {0:>9} in {{braces}}?} "


def test_an_overlong_template_is_refused() -> None:
    with pytest.raises(ValueError, match="prompt template is too long"):
        validate_template(TeacherMode.cot, "{question}" + "x" * MAX_TEMPLATE_CHARS)
