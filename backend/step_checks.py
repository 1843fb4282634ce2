"""What a step-through step shows beside its answer: does its arithmetic check out (the calculator), and,
for a dataset problem, does its value match a value of the reference solution?

Arithmetic is read from `<<expr=value>>` annotations and from plain `a op b = c` equations (small
students write those without annotations); each is recomputed by backend.calculator.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend.calculator import (
    format_number,
    parse_annotations,
    parse_number,
    safe_eval,
    step_value,
    values_equal,
)

# "3 * 5 = 16", "12 + 7.5 - 2 = 17.5": an expression of numbers and operators, "=", one number.
PLAIN_EQUATION = re.compile(
    r"((?:\d[\d,]*(?:\.\d+)?\s*[-+*/x\u00d7]\s*)+\d[\d,]*(?:\.\d+)?)\s*=\s*\$?(-?\d[\d,]*(?:\.\d+)?)"
)


@dataclass(frozen=True)
class Arithmetic:
    expression: str
    claimed: str
    computed: str | None  # None when the expression cannot be computed

    @property
    def ok(self) -> bool | None:
        claimed = parse_number(self.claimed)
        computed = parse_number(self.computed or "")
        return None if claimed is None or computed is None else values_equal(claimed, computed)


def arithmetic(text: str) -> list[Arithmetic]:
    """Every calculation the step writes, recomputed."""
    found = [
        Arithmetic(a.expression, a.claimed, None if a.computed is None else format_number(a.computed))
        for a in parse_annotations(text)
    ]
    plain = re.sub(r"<<[^<>]*>>", " ", text)
    for expression, claimed in PLAIN_EQUATION.findall(plain):
        cleaned = expression.replace(",", "").replace("\u00d7", "*").replace("x", "*")
        value = safe_eval(cleaned)
        found.append(Arithmetic(expression.strip(), claimed, None if value is None else format_number(value)))
    return found


def arithmetic_check(text: str, corrected: Sequence[dict[str, Any]] = ()) -> str:
    """One line: the step's arithmetic checked (and what the calculator corrected while it was written)."""
    parts = [f"calculator fixed {c['expression']} = {c['claimed']} to {c['computed']}" for c in corrected]
    checks = arithmetic(text)
    wrong = [c for c in checks if c.ok is False]
    if wrong:
        parts += [f"✗ {c.expression} = {c.claimed} (is {c.computed})" for c in wrong]
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
