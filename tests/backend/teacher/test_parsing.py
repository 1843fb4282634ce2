"""Parsing teacher outputs: steps, sub-questions, final answers and verdicts."""

import pytest

from backend.student_formats import StepText
from backend.teacher.parsing import (
    clean_sub_question,
    duplicate_key,
    parse_output,
    rationalized_steps,
    stated_answer,
)
from db.models import TeacherMode, Verdict

COT = "She makes 4 * 12 = <<4*12=48>>48 muffins.\nShe has 48 - 30 = 18 muffins left.\nSo the answer is: 18"


def test_cot_lines_become_steps_and_the_answer_is_graded() -> None:
    parsed = parse_output(TeacherMode.cot, COT, gold="18", answer_type="numeric")
    assert [step.text for step in parsed.steps] == [
        "She makes 4 * 12 = <<4*12=48>>48 muffins.",
        "She has 48 - 30 = 18 muffins left.",
    ]
    assert all(step.sub_question is None for step in parsed.steps)
    assert (parsed.final_answer, parsed.verdict) == ("18", Verdict.correct)


def test_cot_wrong_answer_and_text_after_the_answer_is_ignored() -> None:
    text = "He pays 3 * 2 = 7 dollars. So the answer is: 7\nQuestion: another made-up problem 99"
    parsed = parse_output(TeacherMode.cot, text, gold="6", answer_type="numeric")
    assert [step.text for step in parsed.steps] == ["He pays 3 * 2 = 7 dollars."]
    assert (parsed.final_answer, parsed.verdict) == ("7", Verdict.wrong)


def test_cot_single_line_splits_into_sentences_but_not_at_decimals() -> None:
    text = "80% is 0.8*100 = 80 students. That leaves 20 students. So the answer is: 20"
    parsed = parse_output(TeacherMode.cot, text, gold="20", answer_type="numeric")
    assert [step.text for step in parsed.steps] == [
        "80% is 0.8*100 = 80 students.",
        "That leaves 20 students.",
    ]


def test_output_cut_off_before_an_answer_is_unparseable() -> None:
    parsed = parse_output(
        TeacherMode.cot, "She makes 4 * 12 = 48 muffins.\nThen she", gold="18", answer_type="numeric"
    )
    assert (parsed.final_answer, parsed.verdict) == (None, Verdict.unparseable)
    assert len(parsed.steps) == 2  # raw steps are still kept for a reviewer


def test_socratic_pairs_start_after_the_q1_cue() -> None:
    text = (
        " How many muffins does she make?\nA1: 4 * 12 = 48 muffins.\nQ2: How many are left?\n"
        "A2: 48 - 30 = 18 muffins.\nSo the answer is: 18"
    )
    parsed = parse_output(TeacherMode.socratic, text, gold="18", answer_type="numeric")
    assert parsed.steps == [
        StepText("How many muffins does she make?", "4 * 12 = 48 muffins."),
        StepText("How many are left?", "48 - 30 = 18 muffins."),
    ]
    assert parsed.verdict == Verdict.correct


def test_socratic_drops_a_trailing_question_without_answer() -> None:
    text = " How many?\nA1: 6 apples.\nQ2: And then"
    parsed = parse_output(TeacherMode.socratic, text, gold="6", answer_type="numeric")
    assert parsed.steps == [StepText("How many?", "6 apples.")]
    assert parsed.verdict == Verdict.unparseable


def test_socratic_answer_on_the_last_answer_line() -> None:
    text = " How many?\nA1: 3 * 2 = 6 apples. The answer is 6."
    parsed = parse_output(TeacherMode.socratic, text, gold="6", answer_type="numeric")
    assert parsed.steps == [StepText("How many?", "3 * 2 = 6 apples.")]
    assert parsed.final_answer == "6"


def test_decompose_gives_sub_questions_and_no_verdict() -> None:
    parsed = parse_output(
        TeacherMode.decompose,
        "1. How much do notebooks cost?\n2) How much in total?\n- Change?",
        gold="9",
        answer_type="numeric",
    )
    assert [step.sub_question for step in parsed.steps] == [
        "How much do notebooks cost?",
        "How much in total?",
        "Change?",
    ]
    assert (parsed.final_answer, parsed.verdict) == (None, Verdict.unchecked)
    assert (
        parse_output(TeacherMode.decompose, "No decomposition.", gold=None, answer_type="numeric").steps == []
    )


def test_yes_no_answers_are_graded() -> None:
    parsed = parse_output(
        TeacherMode.cot, "Whales are mammals.\nSo the answer is: yes", gold="yes", answer_type="yes_no"
    )
    assert parsed.verdict == Verdict.correct


def test_rationalized_steps_pair_each_reference_step_with_one_sub_question() -> None:
    parsed = rationalized_steps(
        ["She makes 4 * 12 = 48 muffins.", "She has 48 - 30 = 18 left."],
        [" How many muffins does she make?", "Question: How many are left?\nStep: junk"],
        gold="18",
        answer_type="numeric",
    )
    assert parsed.steps == [
        StepText("How many muffins does she make?", "She makes 4 * 12 = 48 muffins."),
        StepText("How many are left?", "She has 48 - 30 = 18 left."),
    ]
    assert (parsed.final_answer, parsed.verdict) == ("18", Verdict.correct)


def test_rationalized_steps_with_an_empty_sub_question_are_unparseable() -> None:
    parsed = rationalized_steps(["a", "b"], ["How?", "  "], gold="1", answer_type="numeric")
    assert parsed.verdict == Verdict.unparseable
    with pytest.raises(ValueError, match="2 reference steps but 1"):
        rationalized_steps(["a", "b"], ["How?"], gold="1", answer_type="numeric")


def test_helpers() -> None:
    assert stated_answer("it is 5 then 7") is None
    assert stated_answer("#### 1,200") == "1200"
    assert clean_sub_question("  Sub-question: How many?  \nmore") == "How many?"
    assert duplicate_key("  So the Answer\n is: 5 ") == duplicate_key("so the answer is: 5")
