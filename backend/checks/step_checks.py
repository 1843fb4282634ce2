"""What a step-through step shows beside its answer: does its arithmetic check out (the calculator), and,
for a dataset problem, does its value match a value of the reference solution?

Arithmetic is read from `<<expr=value>>` annotations and from plain `a op b = c` equations (small
students write those without annotations); each is recomputed by backend.checks.calculator.
"""

from collections.abc import Sequence
from typing import Any

from backend.checks.calculator import (
    Annotation,
    format_number,
    parse_checks,
    parse_number,
    step_value,
    values_equal,
)


def arithmetic(text: str) -> list[Annotation]:
    """Every calculation the step writes (annotations and plain equations), recomputed by the calculator."""
    return parse_checks(text)


def _shown(value: float | None) -> str:
    return "?" if value is None else format_number(value)


def arithmetic_check(text: str, corrected: Sequence[dict[str, Any]] = ()) -> str:
    """One line: the step's arithmetic checked (and what the calculator corrected while it was written)."""
    parts = [f"calculator fixed {c['expression']} = {c['claimed']} to {c['computed']}" for c in corrected]
    checks = arithmetic(text)
    wrong = [c for c in checks if c.ok is False]
    if wrong:
        parts += [f"✗ {c.expression} = {c.claimed} (is {_shown(c.computed)})" for c in wrong]
    elif checks:
        parts.append("✓ arithmetic checks out")
    else:
        parts.append("no arithmetic to check")
    return "; ".join(parts)


def reference_values(gold_steps: Sequence[dict[str, Any]]) -> list[str]:
    """The values the reference solution's steps arrive at (what a student's step may match)."""
    values = []
    for step in gold_steps:
        value = parse_number(str(step.get("value") or "")) if step.get("value") else None
        text_value = step_value(str(step.get("text") or "")) if value is None else format_number(value)
        if text_value is not None:
            values.append(text_value)
    return values


def reference_check(text: str, references: Sequence[str]) -> str:
    """Whether the step's value is one of the reference solution's values ("" without a reference)."""
    if not references:
        return ""
    value = step_value(text)
    number = parse_number(value or "")
    if number is None:
        return "no value to compare with the reference"
    for index, reference in enumerate(references, start=1):
        ref_number = parse_number(reference)
        if ref_number is not None and values_equal(number, ref_number):
            return f"✓ {value} matches reference step {index}"
    return f"✗ {value} is no value of the reference solution"


def step_check(text: str, corrected: Sequence[dict[str, Any]], references: Sequence[str]) -> str:
    return " · ".join(
        part for part in (arithmetic_check(text, corrected), reference_check(text, references)) if part
    )
