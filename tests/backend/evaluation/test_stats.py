"""Wilson intervals and exact McNemar tests against known values."""

import pytest

from backend.evaluation.stats import mcnemar_exact, wilson_interval


def test_wilson_interval_matches_the_textbook_values() -> None:
    ci = wilson_interval(0, 150)
    assert ci.low == 0.0 and ci.high == pytest.approx(0.0249, abs=1e-3)  # 0/150 still has an upper bound
    ci = wilson_interval(75, 150)
    assert (ci.low, ci.high) == (pytest.approx(0.4209, abs=1e-3), pytest.approx(0.5791, abs=1e-3))


def test_mcnemar_counts_only_discordant_pairs() -> None:
    a = [True] * 10 + [False] * 5 + [True] * 3
    b = [False] * 10 + [False] * 5 + [True] * 3
    test = mcnemar_exact(a, b)
    assert (test.only_a, test.only_b) == (10, 0)
    assert test.p_value == pytest.approx(2 * 0.5**10)  # two-sided exact binomial
    assert mcnemar_exact([True, False], [True, False]).p_value == 1.0
    with pytest.raises(ValueError, match="differ in length"):
        mcnemar_exact([True], [True, False])
