from hypothesis import given
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
