"""What a step-through step shows beside its answer: arithmetic recomputed by the calculator."""

from backend.checks.step_checks import arithmetic_check


def test_plain_and_annotated_arithmetic_is_checked_with_the_calculators_parser() -> None:
    assert arithmetic_check("Tom spends 3 * 5 = 16 dollars.") == "✗ 3 * 5 = 16 (is 15)"
    assert arithmetic_check("He has 16-4 = <<16-4=12>>12 and 2 x 3 = 6.") == "✓ arithmetic checks out"
    assert arithmetic_check("2x = 10, so x is 5.") == "no arithmetic to check"
    fixed = [{"expression": "12 + 17", "claimed": "20", "computed": "29"}]
    assert arithmetic_check("12 + 17 = 29", fixed).startswith("calculator fixed 12 + 17 = 20 to 29")
