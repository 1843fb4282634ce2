"""The exact text each student kind is trained on and prompted with; training, export and evaluation
all use these functions, so a prompt at inference time is byte-identical to the one the student saw.

Formats (domain.md): SCoTD-style `Q: {question}\nA:` -> `{rationale} So the answer is: {label}`;
Socratic decomposer (problem + pairs so far -> next sub-question or END) and solver (problem + pairs so
far + sub-question -> sub-answer); Divide-or-Conquer decomposer (problem -> numbered sub-questions).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from db.models import StudentKind

END_MARKER = "[END]"
NO_DECOMPOSITION = "No decomposition"
ANSWER_PREFIX = "So the answer is:"


@dataclass(frozen=True)
class StepText:
    sub_question: str | None
    text: str


@dataclass(frozen=True)
class Example:
    prompt: str
    completion: str

    def as_messages(self) -> list[dict[str, str]]:
        return [
            {"role": "user", "content": self.prompt},
            {"role": "assistant", "content": self.completion.strip()},
        ]


class MissingSubQuestions(ValueError):
    """A Socratic format was asked of a rationale whose steps have no sub-questions."""


def cot_prompt(question: str) -> str:
    return f"Q: {question.strip()}\nA:"


def cot_completion(steps: Sequence[StepText], final_answer: str) -> str:
    body = " ".join(step.text.strip() for step in steps if step.text.strip())
    return f" {body} {ANSWER_PREFIX} {final_answer}".replace("  ", " ")


def answer_only_completion(final_answer: str) -> str:
    return f" {ANSWER_PREFIX} {final_answer}"


def _pairs_block(pairs: Sequence[StepText]) -> str:
    lines = []
    for number, pair in enumerate(pairs, start=1):
        lines.append(f"Q{number}: {(pair.sub_question or '').strip()}")
        lines.append(f"A{number}: {pair.text.strip()}")
    return "".join(line + "\n" for line in lines)


def decomposer_prompt(question: str, pairs_so_far: Sequence[StepText]) -> str:
    """Problem and the (sub-question, answer) pairs so far; the student writes the next sub-question."""
    return f"Problem: {question.strip()}\n{_pairs_block(pairs_so_far)}Q{len(pairs_so_far) + 1}:"


def solver_prompt(question: str, pairs_so_far: Sequence[StepText], sub_question: str) -> str:
    """Problem, pairs so far and the new sub-question; the student writes its answer."""
    number = len(pairs_so_far) + 1
    asked = f"Q{number}: {sub_question.strip()}\nA{number}:"
    return f"Problem: {question.strip()}\n{_pairs_block(pairs_so_far)}{asked}"


def decompose_only_prompt(question: str) -> str:
    return f"Problem: {question.strip()}\nSub-questions:"


def decompose_only_completion(sub_questions: Sequence[str]) -> str:
    if not sub_questions:
        return f" {NO_DECOMPOSITION}"
    return "".join(f"\n{number}. {text.strip()}" for number, text in enumerate(sub_questions, start=1))


def _require_sub_questions(steps: Sequence[StepText]) -> None:
    if not steps or any(not (step.sub_question or "").strip() for step in steps):
        raise MissingSubQuestions("every step needs a sub-question for a Socratic format")


def decomposer_examples(question: str, steps: Sequence[StepText]) -> list[Example]:
    _require_sub_questions(steps)
    examples = [
        Example(decomposer_prompt(question, steps[:k]), f" {(steps[k].sub_question or '').strip()}")
        for k in range(len(steps))
    ]
    examples.append(Example(decomposer_prompt(question, steps), f" {END_MARKER}"))
    return examples


def solver_examples(question: str, steps: Sequence[StepText]) -> list[Example]:
    _require_sub_questions(steps)
    return [
        Example(solver_prompt(question, steps[:k], steps[k].sub_question or ""), f" {steps[k].text.strip()}")
        for k in range(len(steps))
    ]


def examples_for(
    kind: StudentKind, question: str, steps: Sequence[StepText], final_answer: str
) -> list[Example]:
    """All training examples one rationale yields for a student kind (Socratic kinds yield one per step)."""
    if kind == StudentKind.answer_only:
        return [Example(cot_prompt(question), answer_only_completion(final_answer))]
    if kind == StudentKind.cot:
        return [Example(cot_prompt(question), cot_completion(steps, final_answer))]
    if kind == StudentKind.decomposer:
        return decomposer_examples(question, steps)
    if kind == StudentKind.solver:
        return solver_examples(question, steps)
    if kind == StudentKind.unified:
        return decomposer_examples(question, steps) + solver_examples(question, steps)
    if kind == StudentKind.decompose_only:
        _require_sub_questions(steps)
        sub_questions = [step.sub_question or "" for step in steps]
        return [Example(decompose_only_prompt(question), decompose_only_completion(sub_questions))]
    raise ValueError(f"unknown student kind {kind!r}")
