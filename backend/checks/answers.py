"""Answer checking: normalise a final answer, pull it out of a generated text, compare it with the gold.

Small pure functions (nanochat's `tasks/gsm8k.py` style) shared by importers, teacher runs, evaluation
and rewards. Answer types: "numeric" (GSM8K, SVAMP), "yes_no" (StrategyQA), "choice" (A-E), "text".

Numeric answers are normalised to calculator.format_number's form ("1200.5", "72", "-3", "0.75"):
commas, currency symbols and units are dropped, fractions ("3/4", "1 1/2") become decimals, and a
percent sign is dropped ("25%" -> "25", GSM8K's convention for "what percent" questions).
"""

import math
import re
from typing import Literal

from backend.checks.calculator import format_number
from db.models import Verdict

AnswerType = Literal["numeric", "yes_no", "choice", "text"]
ANSWER_TYPES: tuple[str, ...] = ("numeric", "yes_no", "choice", "text")

# One numeric token: a mixed number "1 1/2", a fraction "3/4", or a decimal with optional thousands commas.
_NUMBER_TOKEN = re.compile(
    r"(?P<mixed>(?P<whole>\d+)\s+(?P<mnum>\d+)\s*/\s*(?P<mden>\d+))"
    r"|(?P<frac>(?P<fnum>\d+)\s*/\s*(?P<fden>\d+))"
    r"|(?P<dec>(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d{1,3}\b)?)"
)
_CURRENCY = re.compile(r"[$€£¥₹]|\b(?:USD|EUR|GBP)\b", re.IGNORECASE)
_LATEX_FRACTION = re.compile(r"\\d?frac\{\s*(\d+)\s*\}\{\s*(\d+)\s*\}")  # \frac{1}{2} -> 1/2
_MINUS = re.compile(r"[−–—]")  # unicode minus and dashes written as minus signs  # noqa: RUF001
_MAX_DIGITS = 60  # longer digit runs are not answers; float() would turn them into inf

# Markers a rationale states its answer with, tried in this order (the last occurrence wins).
_MARKERS = (
    re.compile(r"####\s*(?P<answer>[^\n]*)"),
    re.compile(r"\\boxed\{(?P<answer>(?:[^{}]|\{[^{}]*\})*)\}"),
    re.compile(r"\b(?:so\s+)?the\s+(?:final\s+)?answer\s+is\s*:?\s*(?P<answer>[^\n]*)", re.IGNORECASE),
    re.compile(r"^\s*(?:final\s+)?answer\s*:\s*(?P<answer>[^\n]*)", re.IGNORECASE | re.MULTILINE),
)

_YES = {"yes", "true", "y", "correct"}
_NO = {"no", "false", "n", "incorrect"}
_YES_NO_WORD = re.compile(r"\b(yes|no|true|false)\b", re.IGNORECASE)
# "(b)", "B)", "b.", "C:", "D" alone; a bare lowercase letter followed by a space ("a cat") is not a choice.
_CHOICE_LEAD = re.compile(r"^\s*(?:\(([A-Ea-e])\)|([A-Ea-e])[.):](?:\s|$)|([A-E])\s*$)")
_CHOICE_NAMED = re.compile(r"(?i:\b(?:option|choice|answer)(?:\s+is)?\s*:?\s*)(?:\(([A-Ea-e])\)|([A-E])\b)")


def _check_type(answer_type: str) -> None:
    if answer_type not in ANSWER_TYPES:
        raise ValueError(f"unknown answer type {answer_type!r}; expected one of {', '.join(ANSWER_TYPES)}")


def _token_value(match: re.Match[str]) -> float | None:
    if match["mixed"]:
        whole, numerator, denominator = int(match["whole"]), int(match["mnum"]), int(match["mden"])
        return whole + numerator / denominator if denominator else None
    if match["frac"]:
        numerator, denominator = int(match["fnum"]), int(match["fden"])
        return numerator / denominator if denominator else None
    return float(match["dec"].replace(",", ""))


def _negated(before: str) -> bool:
    """A minus right before a number ("-5", "-$5") negates it; in "10-3" or "pages 5-7" it is a dash."""
    before = before.rstrip()
    return before.endswith("-") and not re.search(r"[\w).]$", before[:-1].rstrip())


def _signed_value(text: str, match: re.Match[str]) -> float | None:
    if len(re.sub(r"\D", "", match.group())) > _MAX_DIGITS:
        return None
    value = _token_value(match)
    if value is not None and _negated(text[: match.start()]):
        value = -value
    return value if value is not None and math.isfinite(value) else None


def _clean_numeric(text: str) -> str:
    return _CURRENCY.sub(" ", _LATEX_FRACTION.sub(r"\1/\2", _MINUS.sub("-", text)))


def parse_numeric(text: str) -> float | None:
    """The number a short answer states: "$1,200.50" -> 1200.5, "1 1/2 cups" -> 1.5, "x = 5" -> 5.

    After the last "=" (if any), the first number is the answer; units and words around it are ignored.
    """
    cleaned = _clean_numeric(text).rpartition("=")[2]
    match = _NUMBER_TOKEN.search(cleaned)
    return None if match is None else _signed_value(cleaned, match)


def last_number(text: str) -> float | None:
    """The last number in a longer text (the numeric fallback when no answer marker is found)."""
    cleaned = _clean_numeric(text)
    for match in reversed(list(_NUMBER_TOKEN.finditer(cleaned))):
        value = _signed_value(cleaned, match)
        if value is not None:
            return value
    return None


def _normalize_yes_no(text: str) -> str | None:
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return None
    if words[0] in _YES:
        return "yes"
    if words[0] in _NO:
        return "no"
    return None


def _normalize_choice(text: str) -> str | None:
    match = _CHOICE_LEAD.match(text) or _CHOICE_NAMED.search(text)
    if match is None:
        return None
    return next(group for group in match.groups() if group).upper()


def _normalize_text(text: str) -> str | None:
    collapsed = " ".join(text.split()).strip(" .!?;:").lower()
    return collapsed or None


def normalize_answer(text: str | None, answer_type: str = "numeric") -> str | None:
    """The canonical form of a short answer ("72", "yes", "B", "paris"), or None if it states none."""
    _check_type(answer_type)
    if text is None:
        return None
    if answer_type == "numeric":
        value = parse_numeric(text)
        return None if value is None else format_number(value)
    if answer_type == "yes_no":
        return _normalize_yes_no(text)
    if answer_type == "choice":
        return _normalize_choice(text)
    return _normalize_text(text)


def _marked_answers(text: str) -> list[str]:
    """Every span an answer marker introduces, the most trusted marker first, last occurrence first."""
    spans: list[str] = []
    for marker in _MARKERS:
        spans.extend(reversed([match["answer"] for match in marker.finditer(text)]))
    return spans


def reasoning_of(text: str) -> str:
    """The rationale up to where it states its final answer (the earliest answer marker), so that the
    same reasoning ended with "#### 110" or with "So the answer is: 110" reads the same."""
    starts = [match.start() for marker in _MARKERS for match in marker.finditer(text)]
    return text[: min(starts)] if starts else text


def extract_final_answer(
    text: str | None, answer_type: str = "numeric", *, marker_required: bool = False
) -> str | None:
    """The normalised final answer a rationale or model output states, or None.

    Understands "#### X", "\\boxed{X}", "So the answer is: X", "The answer is X", "Answer: X"; without a
    marker, numeric falls back to the last number, yes/no to the first or last yes/no word, unless
    `marker_required` (a student trained to end with a marker that stops before it was cut off: its last
    number is an intermediate value, not an answer).
    """
    _check_type(answer_type)
    if not text:
        return None
    for span in _marked_answers(text):
        answer = normalize_answer(span, answer_type)
        if answer is not None:
            return answer
    if marker_required:
        return None
    if answer_type == "numeric":
        value = last_number(text)
        return None if value is None else format_number(value)
    if answer_type == "yes_no":
        words = _YES_NO_WORD.findall(text)
        return _normalize_yes_no(text) or (_normalize_yes_no(words[-1]) if words else None)
    return normalize_answer(text.strip().splitlines()[-1] if text.strip() else "", answer_type)


def _numbers_match(predicted: str, gold: str) -> bool:
    p, g = float(predicted), float(gold)
    if p == g:
        return True
    if p.is_integer() and g.is_integer():  # counts never match approximately
        return False
    if math.isclose(p, g, rel_tol=1e-9, abs_tol=1e-9):  # float noise
        return True
    # A prediction written with 2+ decimals is read as rounded: "0.33" matches 1/3, "33.33" matches 100/3,
    # but "1200" never matches 1200.5 and "2.9" never matches 2.94.
    decimals = len(predicted.partition(".")[2])
    return decimals >= 2 and abs(p - g) <= 0.5 * 10.0**-decimals + 1e-12


def answers_match(predicted: str | None, gold: str | None, answer_type: str = "numeric") -> bool:
    """Whether a predicted answer states the gold answer (both normalised first)."""
    p, g = normalize_answer(predicted, answer_type), normalize_answer(gold, answer_type)
    if p is None or g is None:
        return False
    if answer_type == "numeric":
        return _numbers_match(p, g)
    return p == g


def grade(predicted: str | None, gold: str | None, answer_type: str = "numeric") -> Verdict:
    """correct / wrong; unparseable when no answer can be read from `predicted`; unchecked without gold."""
    if normalize_answer(gold, answer_type) is None:
        return Verdict.unchecked
    if normalize_answer(predicted, answer_type) is None:
        return Verdict.unparseable
    return Verdict.correct if answers_match(predicted, gold, answer_type) else Verdict.wrong
