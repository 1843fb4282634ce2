"""The calculator: arithmetic in a step is checked (and, during generation, corrected) by evaluating it
with a small, safe arithmetic evaluator (never Python's eval).

Two spellings are understood: GSM8K's annotations `<<48/2=24>>`, and plain equations written in the text,
`120 - 14 = 106` (reasoning-gym `gsm_symbolic` rationales and most model outputs have no annotations).
A plain equation needs at least one operator between numbers on its left; anything else ("2x = 10",
"48=48", words) is left as written."""

import ast
import math
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from backend.access.limits import CALCULATOR_SCAN_CHARS

ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_OPERATORS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
MAX_EXPONENT = 100  # 10**10**10 would hang the process
# Most GSM8K annotations are one binary operation ("48/2"): computed directly, ~8x faster than ast.parse.
# Same numbers as the ast path accepts (no leading zeros), so both paths give the same result.
_SIMPLE = re.compile(r"(-?(?:0|[1-9]\d*)(?:\.\d+)?)\s*([-+*/])\s*(-?(?:0|[1-9]\d*)(?:\.\d+)?)")
# Plain equations: numbers (thousands commas, decimals, a leading $, € or £) joined by + - * / x, the
# multiplication and division signs, and parentheses. A number may carry up to three unit words
# ("7 days/week * 5 weeks = 35", "134 students - 31 hike = 103"): gsm_symbolic's reference steps and the
# students trained on them write most of their arithmetic that way.
#
# Found in one left-to-right pass (linear in the text): `_CHAIN` matches a run of operands joined by
# operators starting at a number, as far as it goes; a chain followed by `= value` with at least one
# operator is an equation, and the search goes on after it. Nothing is ever scanned twice by a failed
# attempt: a chain always matches once its first number does (its operators are optional), and a
# chain's opening parentheses are found by stepping back from its first number (`_chain_start`),
# since a pattern that began at each "(" of "( ( ( ..." rescanned the run from each one. One pattern
# with the `=` in it (`operand (op operand)+ = value`) was tried again at every position of a chain that
# had no `=` after it: "1 + " * 8,000 took 15 s.
#
# Within a chain each run of spaces has one place that can take it (before a parenthesis, an operator or
# a unit word it is attached to), and a unit word never is, or ends like, an operator, so a chain has one
# reading and the `=` after it is right after its last operand or nowhere. A unit word is read whole:
# "3 boxesx4" is not "3 boxes x 4" (the single pattern backtracked into that reading, then dropped
# "boxesx" as a unit word and "corrected" the step to 34).
CURRENCIES = "$\u20ac\u00a3"  # written before a number: $5, €5, £5
_CURRENCY = f"[{re.escape(CURRENCIES)}]"
# What the arithmetic does not read: thousands commas and currency signs.
_NOT_ARITHMETIC = str.maketrans("", "", "," + CURRENCIES)
_NUM = rf"{_CURRENCY}?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?"
_UNIT_WORD = r"(?!x(?![A-Za-z]))[A-Za-z](?:[A-Za-z/'-]*[A-Za-z])?"
_PER_UNIT = rf"/{_UNIT_WORD}"  # a rate written on the number: €11/ball, 27/hour
_AFTER_NUMBER = rf"(?:{_PER_UNIT})?(?:\s+{_UNIT_WORD}){{0,3}}(?:\s*\))*"
_OPERAND = rf"(?:\(\s*)*{_NUM}{_AFTER_NUMBER}"
_OPERATOR = r"[-+*/x\u00d7\u00f7]"
_NOT_BEFORE = rf"[\w.,{re.escape(CURRENCIES)}]"  # a chain never starts inside a word or a number
_CHAIN = re.compile(rf"(?<!{_NOT_BEFORE}){_NUM}{_AFTER_NUMBER}(?P<rest>(?:\s*{_OPERATOR}\s*{_OPERAND})*)")
# A claim may be a percentage ("6 / 12 = 50%"): the sign belongs to the value, so that it is compared as one.
_CLAIM = re.compile(rf"\s*=\s*(?P<claimed>-?{_NUM}(?![\d])(?:\s?%)?)")
# An expression that multiplies by 100 already gives its result in percent ("0.5 * 100 = 50%").
_TIMES_100 = re.compile(r"(?<![\d.,])100(?![\d.,])\s*[*x\u00d7]|[*x\u00d7]\s*100(?![\d.,])")
_NOT_BEFORE_A_CHAIN = re.compile(_NOT_BEFORE)
# An operator or parenthesis right before a chain: the chain is the tail of a longer expression that the
# pattern could not read ("6 pounds each * 2 - 10 = 2" is not "2 - 10 = 2", to be "corrected" to -8).
_AFTER_AN_OPERATOR = re.compile(r"(?:[-+*/\u00d7\u00f7(]|(?<![A-Za-z])x)\Z")
_UNIT_WORDS = re.compile(rf"(?<=[\d)])(?:{_PER_UNIT})?(?:\s+{_UNIT_WORD}){{0,3}}")
_SIMPLE_OPERATORS: dict[str, Any] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


@dataclass(frozen=True)
class Annotation:
    expression: str
    claimed: str
    computed: float | None
    ok: bool | None  # None when the expression cannot be evaluated

    def to_json(self) -> dict[str, Any]:
        # Spelled out: dataclasses.asdict deep-copies and was a third of the time of a 100k-problem import.
        return {
            "expression": self.expression,
            "claimed": self.claimed,
            "computed": self.computed,
            "ok": self.ok,
        }


def _evaluate(node: ast.AST) -> float:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ValueError("exponent too large")
        return float(_OPERATORS[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return float(_OPERATORS[type(node.op)](_evaluate(node.operand)))
    raise ValueError(f"unsupported expression element: {type(node).__name__}")


def safe_eval(expression: str) -> float | None:
    """Evaluate + - * / // % ** and parentheses over numbers; None for anything else or on error."""
    cleaned = expression.translate(_NOT_ARITHMETIC).replace("x", "*").replace("\u00d7", "*")
    cleaned = cleaned.replace("÷", "/").strip()
    if not cleaned or len(cleaned) > 200:
        return None
    simple = _SIMPLE.fullmatch(cleaned)
    try:
        if simple:
            left, symbol, right = simple.groups()
            value = float(_SIMPLE_OPERATORS[symbol](float(left), float(right)))
        else:
            value = _evaluate(ast.parse(cleaned, mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, RecursionError, TypeError):
        return None
    return value if math.isfinite(value) else None


def parse_number(text: str) -> float | None:
    cleaned = text.translate(_NOT_ARITHMETIC).strip().rstrip(".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    # float() also reads "inf", "nan" and "1e400"; none is a calculator value, and format_number
    # would raise on them.
    return value if math.isfinite(value) else None


def values_equal(a: float, b: float, *, rel_tol: float = 1e-4, abs_tol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


def check_annotation(expression: str, claimed: str) -> Annotation:
    computed = safe_eval(expression)
    claimed_value = parse_number(_claim_number(claimed))
    ok = None if computed is None or claimed_value is None else claim_holds(computed, claimed, expression)
    return Annotation(expression=expression.strip(), claimed=claimed.strip(), computed=computed, ok=ok)


def parse_annotations(text: str) -> list[Annotation]:
    """Every `<<expr=value>>` in a step, each checked: does the expression compute the claimed value?"""
    return [check_annotation(expr, claimed) for expr, claimed in ANNOTATION.findall(text)]


def _claim_number(claimed: str) -> str:
    """The number a claim writes, without its percent sign or a closing full stop: "50.0%" -> "50.0"."""
    return claimed.strip().removesuffix("%").strip().rstrip(".")


def in_claim_units(computed: float, claimed: str, expression: str) -> float:
    """The computed value in the unit the claim is written in: a percentage counts hundredths ("6 / 12 =
    50%"), unless the expression already multiplies by 100 ("0.5 * 100 = 50%")."""
    percent = claimed.strip().endswith("%") and not _TIMES_100.search(expression)
    return computed * 100 if percent else computed


def claim_spelling(computed: float, claimed: str, expression: str) -> str:
    """The computed value written the way the claim is: "6 / 12 = 40%" is set right to "50%", not 0.5."""
    value = format_number(in_claim_units(computed, claimed, expression))
    return value + "%" if claimed.strip().endswith("%") else value


def claim_holds(computed: float, claimed: str, expression: str = "") -> bool:
    """A written value is right when it equals the computed one, or is the computed one rounded to the
    decimals it shows, none included: "10 / 3 = 3.33", "10 / 3 = 3" and "1 / 3 = 33.3%" all hold.

    Why rounding to whole numbers is accepted: rounding is a choice the text makes (whole people, whole
    boxes, cents), not an arithmetic slip, and the calculator cannot tell which quantities must be whole.
    A value no rounding explains ("10 / 3 = 4", "2 * 2 = 42") is still wrong, so slips are still caught;
    "corrected" rounding put an unrounded value into a step that went on with the rounded one."""
    written = _claim_number(claimed)
    value = parse_number(written)
    if value is None:
        return False
    target = in_claim_units(computed, claimed, expression)
    half_unit = 0.5 * 10.0 ** -len(written.partition(".")[2])
    return values_equal(target, value) or abs(target - value) <= half_unit * (1 + 1e-9)  # 3.5 -> 3 or 4


@dataclass(frozen=True)
class PlainEquation:
    expression: str
    claimed: str  # as written, with its percent sign: "50%"
    computed: float | None  # None: not computable (unbalanced parentheses, division by zero)
    start: int  # where the equation starts in the text
    value_start: int  # where the claimed value starts in the text
    value_end: int

    @property
    def ok(self) -> bool | None:
        return None if self.computed is None else claim_holds(self.computed, self.claimed, self.expression)


class EquationSpan(NamedTuple):
    """Where a plain equation lies in a text: its expression [start, end), its written value."""

    start: int
    end: int
    value_start: int
    value_end: int


def _chain_start(text: str, number: int, floor: int) -> int:
    r"""Where the chain whose first number is at `number` starts: back over the "(" before it and the
    spaces after each, never before `floor` (where the scan stands). A chain that may not start at its
    first parenthesis (a letter or digit before it) starts where the pattern `(?:\(\s*)*` would next
    try: at its second parenthesis, or at the number."""
    start = here = number
    while True:
        while here > floor and text[here - 1].isspace():
            here -= 1
        if here <= floor or text[here - 1] != "(":
            break
        here = start = here - 1
    if start < number and start > 0 and _NOT_BEFORE_A_CHAIN.match(text, start - 1):
        second = text.find("(", start + 1, number)
        return number if second == -1 else second
    return start


def plain_equation_spans(text: str, start: int = 0) -> Iterator[EquationSpan]:
    """Every `a op b (op c ...) = value` in `text` from `start` on, in one linear pass (see `_CHAIN`)."""
    position, searching = start, True
    while searching:
        searching = False
        for chain in _CHAIN.finditer(text, position):  # consecutive chains, each read once
            claim = _CLAIM.match(text, chain.end()) if chain.end("rest") > chain.start("rest") else None
            if claim is not None:
                first = _chain_start(text, chain.start(), position)
                yield EquationSpan(first, chain.end(), claim.start("claimed"), claim.end("claimed"))
                position, searching = claim.end(), True  # go on after the written value
                break
            position = chain.end()


def _scanned(text: str) -> str:
    """The part of a text the calculator reads: the first CALCULATOR_SCAN_CHARS characters, cut at a
    space or line break so that no number or equation is read shorter than it is written."""
    if len(text) <= CALCULATOR_SCAN_CHARS:
        return text
    head = text[:CALCULATOR_SCAN_CHARS]
    return head[: max(0, head.rfind(" "), head.rfind("\n"))]


def find_plain_equations(text: str, start: int = 0) -> list[PlainEquation]:
    """Every `a op b (op c ...) = value` written outside `<<...>>` annotations, from `start` on (in the
    text's first CALCULATOR_SCAN_CHARS characters)."""
    text = _scanned(text)
    if "=" not in text:
        return []
    masked = ANNOTATION.sub(lambda match: " " * len(match.group()), text)  # annotations are checked apart
    equations = []
    for span in plain_equation_spans(masked, start):
        if text.endswith(">>", 0, span.value_start):  # `16-4 = <<16-4=12>>12`: checked as annotation
            continue
        if _AFTER_AN_OPERATOR.search(masked[max(0, span.start - 80) : span.start].rstrip()):
            continue
        expression = masked[span.start : span.end]
        equations.append(
            PlainEquation(
                expression=expression.strip(),
                claimed=masked[span.value_start : span.value_end],
                computed=safe_eval(_UNIT_WORDS.sub("", expression)),
                start=span.start,
                value_start=span.value_start,
                value_end=span.value_end,
            )
        )
    return equations


def parse_checks(text: str) -> list[Annotation]:
    """All arithmetic a step states, checked: its annotations, then its plain equations."""
    plain = [
        Annotation(expression=eq.expression, claimed=eq.claimed, computed=eq.computed, ok=eq.ok)
        for eq in find_plain_equations(text)
    ]
    return parse_annotations(text) + plain


def first_wrong_equation(text: str, start: int = 0) -> PlainEquation | None:
    """The earliest plain equation from `start` on whose written value the calculator refutes."""
    return next((eq for eq in find_plain_equations(text, start) if eq.ok is False), None)


def strip_annotations(text: str) -> str:
    return ANNOTATION.sub("", text)


def format_number(value: float) -> str:
    """72.0 -> '72', 0.5 -> '0.5' (the normalised form answers are stored in)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def step_value(text: str) -> str | None:
    """The intermediate value a step arrives at: its last calculator result, else the last number."""
    annotations = ANNOTATION.findall(text)
    candidates = [claimed for _, claimed in annotations] or NUMBER.findall(strip_annotations(text))
    for candidate in reversed(candidates):
        number = parse_number(candidate)
        if number is not None:
            return format_number(number)
    return None


def annotate_step(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """Expressions (as JSON) and the intermediate value of one step, as stored on a Step row."""
    return [annotation.to_json() for annotation in parse_checks(text)], step_value(text)
