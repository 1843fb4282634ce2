"""Sub-question checks on the mistakes a small teacher makes (examples seen in its own rationales)."""

from backend.checks.subquestion_checks import (
    HAS_ARITHMETIC,
    NOT_A_QUESTION,
    REPEATS_PREVIOUS,
    STATES_RESULT,
    issue_counts,
    rationale_issues,
    sub_question_issues,
)
from backend.student_formats import StepText

QUESTION = "He visits 11700 apartments a day for 2 days. How many visits is that?"


def test_a_sub_question_that_gives_away_its_result_is_flagged() -> None:
    step = StepText("How many days does he visit 11700 * 2 = 22200 apartments?", "11700 * 2 = 23400 visits.")
    assert sub_question_issues(QUESTION, step, None) == [HAS_ARITHMETIC]
    leaked = StepText("How many visits is 23400?", "11700 * 2 = 23400 visits.")
    assert sub_question_issues(QUESTION, leaked, None) == [STATES_RESULT]


def test_good_sub_questions_pass_and_numbers_from_the_problem_are_allowed() -> None:
    good = StepText("How many visits does he make in 2 days?", "11700 * 2 = 23400 visits.")
    assert sub_question_issues(QUESTION, good, None) == []


def test_repeats_and_statements_are_flagged() -> None:
    steps = [
        StepText("How many visits?", "11700 * 2 = 23400."),
        StepText("How many visits ?", "23400 / 2 = 11700."),
        StepText("He makes visits", "23400 + 1 = 23401."),
    ]
    assert rationale_issues(QUESTION, steps) == [[], [REPEATS_PREVIOUS], [NOT_A_QUESTION]]
    counts = issue_counts([(QUESTION, steps)])
    assert counts["sub-questions"] == 3 and counts["clean rationales"] == 0 and counts[REPEATS_PREVIOUS] == 1
