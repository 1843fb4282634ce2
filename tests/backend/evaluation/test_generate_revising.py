"""The calculator inside a revising batch (backend.evaluation.generate with a backend that `revises`) gives
the texts, corrections and token counts of the round-by-round path, with the model read as often."""

from collections.abc import Callable

import pytest

from backend.evaluation.generate import MAX_CALCULATOR_CALLS, generate_texts
from backend.teacher.base import GenerationParams
from tests.backend.evaluation.scripted import RevisingScriptedBackend, ScriptedBackend
from tests.backend.evaluation.test_generate import (
    arithmetic_student,
    digit_hungry_student,
    gsm_symbolic_student,
)


def euro_student(prompt: str) -> str:
    return " in all." if prompt.endswith("= \u20ac60") else " 10 loaves x \u20ac6 each = \u20ac50 in all."


def percent_student(prompt: str) -> str:
    if prompt.endswith("= 0.5"):
        return "% of them."
    return " of them." if prompt.endswith("= 50%") else " 6 / 12 = 0.4 of them."


STUDENTS: dict[str, Callable[[str], str]] = {
    "annotation": arithmetic_student,
    "plain equation": gsm_symbolic_student,
    "digits after a written value": digit_hungry_student,
    "euros": euro_student,
    "a corrected value read again": percent_student,
    "right sums": lambda prompt: " 3 * 5 = 15 pens. So the answer is: 15",
    "never stops annotating": lambda prompt: "<<1+1=3>>",
    "keeps writing wrong sums": lambda prompt: " 1 + 1 = 3 and",
}


@pytest.mark.parametrize("name", STUDENTS)
def test_revising_in_the_batch_gives_what_the_rounds_give(name: str) -> None:
    params = GenerationParams(max_tokens=1000, stop=["\n"])
    rounds, revising = ScriptedBackend(STUDENTS[name]), RevisingScriptedBackend(STUDENTS[name])
    [expected] = generate_texts(rounds, ["Q:"], params)
    [result] = generate_texts(revising, ["Q:"], params)
    assert (result.text, result.calculator, result.tokens_out, result.kept_tokens) == (
        expected.text,
        expected.calculator,
        expected.tokens_out,
        expected.kept_tokens,
    )
    assert revising.calls == rounds.calls  # the model read the same texts, none twice
    assert result.tokens_in == 1  # the prompt is read once, not again with every round


def test_a_revising_batch_keeps_each_prompts_text_apart_and_stops_at_the_cap() -> None:
    backend = RevisingScriptedBackend(lambda prompt: "<<1+1=3>>" if prompt.startswith("loop") else "12 eggs.")
    looping, plain = generate_texts(backend, ["loop:", "plain:"], GenerationParams(max_tokens=1000))
    assert looping.text.count("<<1+1=2>>") == MAX_CALCULATOR_CALLS + 1
    assert plain.text == "12 eggs." and plain.calculator == []
