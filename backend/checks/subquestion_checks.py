"""Checks of a teacher's sub-questions (Socratic rationales), as a reviewer would make them.

A small teacher writing the question each reference step answers makes recognisable mistakes: it states
the step's result inside the question ("How many days does he visit 11700 * 2 = 22200 apartments?"),
asks the same thing twice, or writes something that is not a question. A decomposer trained on those
learns to do the same, so curation filters them; the counts say how noisy a teacher run was.
"""

import re
from collections import Counter
from collections.abc import Sequence

from backend.checks.calculator import parse_number, step_value
from backend.student_formats import StepText

STATES_RESULT = "states its step's result"
HAS_ARITHMETIC = "contains arithmetic"
REPEATS_PREVIOUS = "repeats the previous sub-question"
NOT_A_QUESTION = "is not a question"
EMPTY = "is empty"
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _normalised(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _numbers(text: str) -> set[float]:
    return {value for token in _NUMBER.findall(text) if (value := parse_number(token)) is not None}


def sub_question_issues(question: str, step: StepText, previous: str | None) -> list[str]:
    """What is wrong with one step's sub-question (empty list: nothing found)."""
    asked = (step.sub_question or "").strip()
    if not asked:
        return [EMPTY]
    issues = []
    if "=" in asked:
        issues.append(HAS_ARITHMETIC)
    result = step_value(step.text)
    value = parse_number(result) if result is not None else None
    # The step's result in its own question gives the answer away (unless the problem states that number).
    if value is not None and value in _numbers(asked) and value not in _numbers(question):
        issues.append(STATES_RESULT)
    if previous is not None and _normalised(asked) == _normalised(previous):
        issues.append(REPEATS_PREVIOUS)
    if not asked.endswith("?"):
        issues.append(NOT_A_QUESTION)
    return issues


def rationale_issues(question: str, steps: Sequence[StepText]) -> list[list[str]]:
    """The issues of every step's sub-question, in step order."""
    previous: str | None = None
    found = []
    for step in steps:
        found.append(sub_question_issues(question, step, previous))
        previous = step.sub_question
    return found


def issue_counts(rationales: Sequence[tuple[str, Sequence[StepText]]]) -> Counter[str]:
    """How many sub-questions show each issue, plus the totals ("sub-questions", "clean rationales")."""
    counts: Counter[str] = Counter()
    for question, steps in rationales:
        per_step = rationale_issues(question, steps)
        counts["sub-questions"] += len(per_step)
        counts["clean rationales"] += int(not any(per_step))
        for issues in per_step:
            counts.update(issues)
    return counts
