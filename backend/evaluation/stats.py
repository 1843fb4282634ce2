"""Uncertainty of evaluation results: a Wilson interval for one accuracy, an exact McNemar test for two
arms scored on the same problems (scipy's binomial test on the discordant pairs)."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(correct: int, n: int, confidence: float = 0.95) -> Interval:
    """The Wilson score interval of correct/n (sound at 0% and 100%, unlike the normal approximation)."""
    if n == 0:
        return Interval(0.0, 1.0)
    from scipy.stats import binomtest

    ci = binomtest(correct, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(float(ci.low), float(ci.high))


@dataclass(frozen=True)
class PairedTest:
    only_a: int  # problems arm A got right and arm B wrong
    only_b: int
    p_value: float  # exact two-sided McNemar (binomial on the discordant pairs); 1.0 when none


def mcnemar_exact(a_correct: Sequence[bool], b_correct: Sequence[bool]) -> PairedTest:
    """Exact McNemar test of two arms scored on the same problems, in the same order."""
    if len(a_correct) != len(b_correct):
        raise ValueError(f"paired results differ in length: {len(a_correct)} vs {len(b_correct)}")
    only_a = sum(a and not b for a, b in zip(a_correct, b_correct, strict=True))
    only_b = sum(b and not a for a, b in zip(a_correct, b_correct, strict=True))
    if only_a + only_b == 0:
        return PairedTest(only_a, only_b, 1.0)
    from scipy.stats import binomtest

    p_value = binomtest(only_a, only_a + only_b, 0.5, alternative="two-sided").pvalue
    return PairedTest(only_a, only_b, float(p_value))
