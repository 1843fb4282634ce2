"""The exact text each student kind is trained on and prompted with; training, export and evaluation
all use these functions, so a prompt at inference time is byte-identical to the one the student saw.

Formats, as the papers define them: SCoTD-style `Q: {question}\nA:` ->
`{rationale} So the answer is: {label}`;
Socratic decomposer (problem + pairs so far -> next sub-question or END) and solver (problem + pairs so
far + sub-question -> sub-answer); Divide-or-Conquer decomposer (problem -> numbered sub-questions).
"""

from collections.abc import Collection, Sequence
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


@dataclass(frozen=True)
class Dialogue:
    """One rationale's whole Socratic exchange as a single training sequence.

    `segments` are (text, trained) pairs. Their concatenation up to each trained segment is byte-identical
    to the per-step prompt (decomposer_prompt / solver_prompt), so a causal student trained on it sees
    exactly the contexts of the per-step examples, at 1/(steps+1) of their compute: the problem is read
    once instead of once per step. A sub-question or answer is followed by the newline that ends it (the
    loop's stop string); the decomposer's last turn is the end marker followed by EOS (`eos_trained`).
    """

    segments: tuple[tuple[str, bool], ...]
    eos_trained: bool

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.segments)


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


def decomposer_examples(
    question: str, steps: Sequence[StepText], untrained: Collection[int] = ()
) -> list[Example]:
    """One example per sub-question (except the `untrained` step indices), then the end marker."""
    _require_sub_questions(steps)
    examples = [
        Example(decomposer_prompt(question, steps[:k]), f" {(steps[k].sub_question or '').strip()}")
        for k in range(len(steps))
        if k not in untrained
    ]
    examples.append(Example(decomposer_prompt(question, steps), f" {END_MARKER}"))
    return examples


def solver_examples(question: str, steps: Sequence[StepText]) -> list[Example]:
    _require_sub_questions(steps)
    return [
        Example(solver_prompt(question, steps[:k], steps[k].sub_question or ""), f" {steps[k].text.strip()}")
        for k in range(len(steps))
    ]


def socratic_dialogue(
    question: str,
    steps: Sequence[StepText],
    *,
    questions: bool,
    answers: bool,
    untrained_questions: Collection[int] = (),
) -> Dialogue:
    """The exchange with the decomposer's turns trained (`questions`), the solver's (`answers`), or both.

    `untrained_questions` (step indices) stay in the text as context but out of the loss: a flagged
    sub-question is not learned, while its rationale's other turns, its depth and its end still are."""
    _require_sub_questions(steps)
    segments: list[tuple[str, bool]] = [(f"Problem: {question.strip()}\nQ1:", False)]
    for number, step in enumerate(steps, start=1):
        segments += [
            (f" {(step.sub_question or '').strip()}\n", questions and number - 1 not in untrained_questions),
            (f"A{number}:", False),
            (f" {step.text.strip()}\n", answers),
            (f"Q{number + 1}:", False),
        ]
    segments.append((f" {END_MARKER}", questions))
    return Dialogue(segments=tuple(segments), eos_trained=questions)


def dialogue_for(
    kind: StudentKind, question: str, steps: Sequence[StepText], untrained_questions: Collection[int] = ()
) -> Dialogue | None:
    """The packed sequence of a Socratic kind (None for kinds trained one example per rationale)."""
    if kind == StudentKind.decomposer:
        return socratic_dialogue(
            question, steps, questions=True, answers=False, untrained_questions=untrained_questions
        )
    if kind == StudentKind.solver:
        return socratic_dialogue(question, steps, questions=False, answers=True)
    if kind == StudentKind.unified:
        return socratic_dialogue(
            question, steps, questions=True, answers=True, untrained_questions=untrained_questions
        )
    return None


def examples_for(
    kind: StudentKind,
    question: str,
    steps: Sequence[StepText],
    final_answer: str,
    untrained_questions: Collection[int] = (),
) -> list[Example]:
    """All training examples one rationale yields for a student kind (Socratic kinds yield one per step;
    the decomposer's turns at `untrained_questions` yield none)."""
    if kind == StudentKind.answer_only:
        return [Example(cot_prompt(question), answer_only_completion(final_answer))]
    if kind == StudentKind.cot:
        return [Example(cot_prompt(question), cot_completion(steps, final_answer))]
    if kind == StudentKind.decomposer:
        return decomposer_examples(question, steps, untrained_questions)
    if kind == StudentKind.solver:
        return solver_examples(question, steps)
    if kind == StudentKind.unified:
        return decomposer_examples(question, steps, untrained_questions) + solver_examples(question, steps)
    if kind == StudentKind.decompose_only:
        _require_sub_questions(steps)
        sub_questions = [step.sub_question or "" for step in steps]
        return [Example(decompose_only_prompt(question), decompose_only_completion(sub_questions))]
    raise ValueError(f"unknown student kind {kind!r}")
