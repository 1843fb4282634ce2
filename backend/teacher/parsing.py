"""Turn teacher outputs into steps, sub-questions and a final answer, graded against the gold answer.

Pure functions over text (the job stores the results; the raw text is always kept beside them).
A teacher answer counts only when the output states it with an answer marker ("So the answer is: X",
"The answer is X", "#### X", "\\boxed{X}"): an output cut off before its answer is unparseable, not
graded on whatever number came last.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from backend.checks.answers import extract_final_answer, grade, reasoning_of
from backend.student_formats import ANSWER_PREFIX, NO_DECOMPOSITION, StepText
from db.models import TeacherMode, Verdict

ANSWER_MARKER = re.compile(r"answer\s+is|####|\\boxed\{", re.IGNORECASE)
ANSWER_LINE = re.compile(rf"{re.escape(ANSWER_PREFIX)}|the\s+answer\s+is|####", re.IGNORECASE)
PAIR_LINE = re.compile(r"^\s*([QA])(\d+)\s*[:.]\s*(.*)$")
NUMBERING = re.compile(r"^\s*(?:\d+\s*[.)]|[-*•])\s*")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")  # "0.8*100" never splits: no space after the dot


@dataclass
class ParsedOutput:
    steps: list[StepText]
    final_answer: str | None
    verdict: Verdict


def stated_answer(text: str, answer_type: str = "numeric") -> str | None:
    """The final answer the text states with a marker, normalised; None without one."""
    return extract_final_answer(text, answer_type) if ANSWER_MARKER.search(text) else None


def split_answer_line(line: str) -> str:
    """The part of a line before its answer marker ("18 left. So the answer is: 18" -> "18 left.")."""
    match = ANSWER_LINE.search(line)
    return line[: match.start()].strip() if match else line.strip()


def parse_cot_steps(text: str) -> list[StepText]:
    """One step per line up to the answer line; a single long line is split into sentences."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        before = split_answer_line(line)
        if before:
            lines.append(before)
        if ANSWER_LINE.search(line):
            break
    if len(lines) == 1:
        lines = [sentence for sentence in SENTENCE_END.split(lines[0]) if sentence.strip()]
    return [StepText(sub_question=None, text=line) for line in lines]


def parse_socratic_steps(text: str) -> list[StepText]:
    """(sub-question, answer) pairs from "Q1: ... A1: ..." lines; the prompt ends with "Q1:", so an
    output that does not start with a numbered line is the first sub-question. A trailing question
    without its answer (cut off) is dropped."""
    questions: dict[int, str] = {}
    answers: dict[int, str] = {}
    current: tuple[str, int] | None = ("Q", 1)
    for line in text.strip().splitlines():
        match = PAIR_LINE.match(line)
        if match:
            current = (match[1].upper(), int(match[2]))
            line = match[3]
        if ANSWER_LINE.search(line) and current and current[0] == "Q":
            break  # the answer line closes the pairs
        before = split_answer_line(line)
        if current is not None and before:
            store = questions if current[0] == "Q" else answers
            store[current[1]] = f"{store.get(current[1], '')} {before}".strip()
        if ANSWER_LINE.search(line):
            break
    return [
        StepText(sub_question=questions[number], text=answers[number])
        for number in sorted(questions)
        if answers.get(number)
    ]


def parse_sub_questions(text: str) -> list[StepText]:
    """Numbered or bulleted lines, one sub-question each; "No decomposition" gives none.

    A repeated sub-question ends the list: small teachers loop ("2. How many...? 3. How many...?").
    """
    steps: list[StepText] = []
    seen: set[str] = set()
    for line in text.strip().splitlines():
        cleaned = NUMBERING.sub("", line).strip()
        if not cleaned or cleaned.lower().startswith(NO_DECOMPOSITION.lower()):
            continue
        if duplicate_key(cleaned) in seen:
            break
        seen.add(duplicate_key(cleaned))
        steps.append(StepText(sub_question=cleaned, text=""))
    return steps


def parse_output(mode: TeacherMode | str, text: str, *, gold: str | None, answer_type: str) -> ParsedOutput:
    """Steps, final answer and verdict for one cot, socratic or decompose output."""
    mode = TeacherMode(mode)
    if mode == TeacherMode.decompose:
        # Decomposition alone states no answer: nothing to grade.
        return ParsedOutput(parse_sub_questions(text), None, Verdict.unchecked)
    if mode == TeacherMode.rationalize:
        raise ValueError("rationalize outputs are one sub-question per step: use rationalized_steps")
    steps = parse_cot_steps(text) if mode == TeacherMode.cot else parse_socratic_steps(text)
    final_answer = stated_answer(text, answer_type)
    return ParsedOutput(steps, final_answer, grade(final_answer, gold, answer_type))


def clean_sub_question(text: str) -> str:
    """The first line of a generated sub-question, without a repeated "Question:" label."""
    lines = text.strip().splitlines()
    first = lines[0].strip() if lines else ""
    return re.sub(r"^(?:sub-)?question\s*:\s*", "", first, flags=re.IGNORECASE).strip()


def rationalized_steps(
    reference_steps: Sequence[str], sub_questions: Sequence[str], *, gold: str | None, answer_type: str
) -> ParsedOutput:
    """Reference steps paired with the sub-question generated for each, exactly one per step.

    The answer is the reference's own; the output is unparseable when any step got an empty sub-question.
    """
    if len(reference_steps) != len(sub_questions):
        raise ValueError(f"{len(reference_steps)} reference steps but {len(sub_questions)} sub-questions")
    cleaned = [clean_sub_question(text) for text in sub_questions]
    steps = [StepText(sub_question=q, text=s) for q, s in zip(cleaned, reference_steps, strict=True)]
    if not all(cleaned):
        return ParsedOutput(steps, gold, Verdict.unparseable)
    return ParsedOutput(steps, gold, grade(gold, gold, answer_type))


def duplicate_key(text: str) -> str:
    """Samples that differ only in case or spacing are the same rationale."""
    return " ".join(text.lower().split())


def reasoning_key(text: str) -> str:
    """Rationales that differ only in case, spacing or how they state the answer reason the same way."""
    return duplicate_key(reasoning_of(text))
