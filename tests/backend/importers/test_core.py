"""Shared importer pieces: solution parsing (hypothesis), error wording, split names from file names."""

from hypothesis import given
from hypothesis import strategies as st

from backend.importers.core import ImportFailure, default_split, parse_solution

step_text = st.text(
    alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=["Cs"]), max_size=60
)


@given(st.text(max_size=400))
def test_parse_solution_never_raises(text: str) -> None:
    steps, final = parse_solution(text)
    assert all(set(step) == {"sub_question", "text", "expressions", "value"} for step in steps)
    assert final is None or "\n" not in final


@given(
    st.lists(st.tuples(st.one_of(st.none(), step_text), step_text), max_size=6),
    st.integers(-(10**6), 10**6),
)
def test_parse_solution_round_trips_gsm8k_layout(pairs: list[tuple[str | None, str]], answer: int) -> None:
    # Build lines the way GSM8K writes them; blank and "####"-looking texts are not steps, so skip them.
    pairs = [
        (q.strip() if q and q.strip() and "**" not in q else None, t.strip())
        for q, t in pairs
        if t.strip() and not t.strip().startswith("####") and " **" not in f" {t}" and "** " not in f"{t} "
    ]
    lines = [f"{q} ** {t}" if q else t for q, t in pairs]
    steps, final = parse_solution("\n".join([*lines, f"#### {answer}"]))
    assert final == str(answer)
    assert [(s["sub_question"], s["text"]) for s in steps] == pairs


def test_failure_message_names_file_line_and_field() -> None:
    assert (
        str(ImportFailure("test.jsonl", 17, "answer", "missing"))
        == "test.jsonl line 17, field 'answer': missing"
    )
    assert str(ImportFailure("a.csv", None, None, "the file is empty")) == "a.csv: the file is empty"


def test_default_split() -> None:
    assert [default_split(s) for s in ("test_socratic", "train", "validation", "mine", "dev-v2")] == [
        "test",
        "train",
        "validation",
        "train",
        "dev",
    ]
