import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.annotation import word_diff
from backend.annotation.diff import diff_summary

TEXT = st.text(alphabet=st.sampled_from("ab c\n<>&*"), max_size=40)


def _side(segments: list[tuple[str, str | None]], keep: str) -> str:
    return "".join(text for text, label in segments if label in (None, keep))


@given(TEXT, TEXT)
def test_diff_rebuilds_both_texts_exactly(before: str, after: str):
    segments = word_diff(before, after)
    assert _side(segments, "-") == before
    assert _side(segments, "+") == after
    assert all(label in (None, "+", "-") for _, label in segments)


def test_word_level_segments():
    assert word_diff("Tom has 3 pens.", "Tom has 4 pens.") == [
        ("Tom has ", None),
        ("3", "-"),
        ("4", "+"),
        (" pens.", None),
    ]
    assert word_diff("same", "same") == [("same", None)]
    assert word_diff("", "new words") == [("new words", "+")]


def test_summary_marks_changes_and_elides_long_equal_runs():
    segments = word_diff("x " * 50 + "end", "x " * 50 + "finish")
    summary = diff_summary(segments)
    assert summary.endswith("[-end-] {+finish+}") and " ... " in summary


LONG_TEXT = st.lists(
    st.sampled_from(["ab", "c", "12", " ", "  ", "\n", "x y", "<>&"]), min_size=150, max_size=300
)


@settings(max_examples=30)
@given(LONG_TEXT, LONG_TEXT)
def test_long_texts_rebuild_exactly_through_the_line_diff(before: list[str], after: list[str]):
    old, new = "".join(before), "".join(after)
    segments = word_diff(old, new)
    assert _side(segments, "-") == old
    assert _side(segments, "+") == new


def test_a_long_text_still_shows_a_changed_word_as_a_word():
    lines = [f"{n}. Tom has {n} pens and buys {n + 1} more." for n in range(1, 200)]
    changed = [*lines[:100], lines[100].replace("buys", "sells"), *lines[101:]]
    segments = word_diff("\n".join(lines), "\n".join(changed))
    assert [(text, label) for text, label in segments if label] == [("buys", "-"), ("sells", "+")]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("x " * 500, "y " * 500),  # 10 s before issue 26's bound
        ("x y " * 3_000, "y x " * 3_000),  # 12 KB
        (" ".join(f"w{n % 60}" for n in range(6_000)), " ".join(f"w{n % 61}" for n in range(6_000))),
        ("1 + " * 30_000, "1 - " * 30_000),  # a 120 KB step
        ("x\n" * 30_000, "y\nx\n" * 15_000),
        ("\n".join(["x y " * 30] * 100), "\n".join(["y x " * 30] * 100)),  # many short changed lines
    ],
)
def test_any_compare_is_quick(before: str, after: str):
    started = time.perf_counter()
    segments = word_diff(before, after)
    assert time.perf_counter() - started < 1.0  # well above the worst bound (about 0.2 s) on a busy machine
    assert _side(segments, "-") == before and _side(segments, "+") == after
