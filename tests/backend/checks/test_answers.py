"""Answer normalisation, extraction and matching: examples plus hypothesis properties."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.checks.answers import answers_match, extract_final_answer, grade, normalize_answer, parse_numeric
from backend.checks.calculator import format_number
from db.models import Verdict

ANSWER_TYPES = ["numeric", "yes_no", "choice", "text"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("72", "72"),
        ("15 dollars", "15"),
        ("$1,200.50", "1200.5"),
        ("12 cm", "12"),
        ("€3", "3"),
        ("3/4", "0.75"),
        ("1 1/2 cups", "1.5"),
        ("25%", "25"),
        ("-$5", "-5"),
        ("−4", "-4"),  # noqa: RUF001 (a unicode minus, as models write it)
        ("x = 5", "5"),
        ("0.50", "0.5"),
        ("1,000,000", "1000000"),
        (r"\frac{1}{4}", "0.25"),
        ("", None),
        ("no number here", None),
        ("1/0", None),
        ("9" * 100, None),
    ],
)
def test_normalize_numeric(text: str, expected: str | None) -> None:
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes.", "yes"),
        ("No. Pears float.", "no"),
        ("TRUE", "yes"),
        ("false", "no"),
        ("maybe", None),
        ("", None),
    ],
)
def test_normalize_yes_no(text: str, expected: str | None) -> None:
    assert normalize_answer(text, "yes_no") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(b)", "B"),
        ("B)", "B"),
        ("c. 42", "C"),
        ("D", "D"),
        ("The answer is (E)", "E"),
        ("a cat", None),
        ("F", None),
    ],
)
def test_normalize_choice(text: str, expected: str | None) -> None:
    assert normalize_answer(text, "choice") == expected


def test_normalize_text_and_unknown_type() -> None:
    assert normalize_answer("  Paris.  ", "text") == "paris"
    with pytest.raises(ValueError, match="unknown answer type"):
        normalize_answer("1", "colour")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tom has 3 pens. So the answer is: 18 dollars.", "18"),
        ("The answer is $1,234.", "1234"),
        ("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72", "72"),
        (r"so \boxed{\frac{1}{2}}", "0.5"),
        ("Answer: 7 apples", "7"),
        ("3 plus 4 gives 7.", "7"),  # no marker: the last number
        ("The answer is unknown, but 3 + 4 = 7", "7"),  # an empty marker falls through
        ("nothing numeric", None),
        ("", None),
    ],
)
def test_extract_numeric(text: str, expected: str | None) -> None:
    assert extract_final_answer(text) == expected


def test_extract_other_types() -> None:
    assert extract_final_answer("Yes. Frost is common in December.", "yes_no") == "yes"
    assert extract_final_answer("It is not true, so no", "yes_no") == "no"
    assert extract_final_answer("Looking at the options, the answer is (C).", "choice") == "C"
    assert extract_final_answer("thinking...\nParis", "text") == "paris"


@pytest.mark.parametrize(
    ("predicted", "gold", "expected"),
    [
        ("$1,200.50", "1200.5", True),
        ("18 dollars", "18", True),
        ("0.33", "1/3", True),  # a rounded decimal prediction matches
        ("33.33", str(100 / 3), True),
        ("1200", "1200.5", False),  # but an integer never matches a non-integer
        ("2.9", "2.94", False),
        ("10001", "10000", False),
        ("5.0", "5", True),
        (None, "5", False),
    ],
)
def test_answers_match_numeric(predicted: str | None, gold: str, expected: bool) -> None:
    assert answers_match(predicted, gold) is expected


def test_grade_verdicts() -> None:
    assert grade("5", "5.0") == Verdict.correct
    assert grade("6", "5") == Verdict.wrong
    assert grade(None, "5") == Verdict.unparseable
    assert grade("no digits", "5") == Verdict.unparseable
    assert grade("5", None) == Verdict.unchecked
    assert grade("Yes, it is.", "Yes. Because ...", "yes_no") == Verdict.correct
    assert grade("(a)", "B", "choice") == Verdict.wrong


# ---- properties ---------------------------------------------------------------------------------------

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(st.text(), st.sampled_from(ANSWER_TYPES))
def test_never_raises_on_arbitrary_text(text: str, answer_type: str) -> None:
    normalize_answer(text, answer_type)
    extract_final_answer(text, answer_type)
    answers_match(text, text, answer_type)
    assert grade(text, "1", answer_type) in set(Verdict)


@given(st.text(), st.sampled_from(ANSWER_TYPES))
def test_normalisation_is_idempotent(text: str, answer_type: str) -> None:
    once = normalize_answer(text, answer_type)
    if once is not None:
        assert normalize_answer(once, answer_type) == once


@given(st.text(), st.sampled_from(ANSWER_TYPES))
def test_an_answer_matches_itself(text: str, answer_type: str) -> None:
    assert answers_match(text, text, answer_type) is (normalize_answer(text, answer_type) is not None)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integer_formats_agree(n: int) -> None:
    with_commas, dollars = f"{n:,}", f"${n:,}" if n >= 0 else f"-${-n:,}"
    assert normalize_answer(with_commas) == str(n)
    assert answers_match(dollars, str(n))
    assert answers_match(f"{n} dollars", f"{n}.0")
    assert not answers_match(str(n + 1), str(n))


@given(finite)
def test_float_round_trips(value: float) -> None:
    assert answers_match(format_number(value), repr(value)) or abs(value) < 1e-6


@given(st.integers(0, 1000), st.integers(1, 1000))
def test_fractions_equal_their_decimal(numerator: int, denominator: int) -> None:
    value = float(Fraction(numerator, denominator))
    assert parse_numeric(f"{numerator}/{denominator}") == pytest.approx(value)
    assert answers_match(f"{numerator}/{denominator}", format_number(value))


@given(st.integers(0, 100), st.integers(1, 50), st.integers(2, 50))
def test_mixed_numbers(whole: int, numerator: int, denominator: int) -> None:
    assert parse_numeric(f"{whole} {numerator}/{denominator}") == pytest.approx(
        whole + numerator / denominator
    )


@given(st.integers(-(10**9), 10**9), st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=40))
def test_extracts_marked_answer_after_any_prose(n: int, prose: str) -> None:
    assert extract_final_answer(f"{prose}\nSo the answer is: {n}") == str(n)
    assert extract_final_answer(f"{prose}\n#### {n:,}") == str(n)


@given(st.sampled_from(["Yes", "yes.", "TRUE", "No", "no!", "False"]), st.text(max_size=60))
def test_yes_no_with_explanation(label: str, explanation: str) -> None:
    expected = "yes" if label.lower().strip(".!") in ("yes", "true") else "no"
    assert normalize_answer(f"{label} {explanation}", "yes_no") == expected


@given(st.sampled_from("ABCDE"), st.sampled_from(["{}", "({})", "{})", "{}.", "({}) because", "answer: {}"]))
def test_choice_forms(letter: str, template: str) -> None:
    for case in (letter, letter.lower()) if template != "{}" and template != "answer: {}" else (letter,):
        assert normalize_answer(template.format(case), "choice") == letter
