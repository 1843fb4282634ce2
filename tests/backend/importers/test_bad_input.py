"""Bad input (issue 6): every malformed file gives a clean ImportFailure naming file/line/field, and
nothing at all is stored. Hand-written cases plus hypothesis fuzzing of every file importer."""

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.importers import (
    ColumnMap,
    ImportFailure,
    ImportReport,
    import_gsm8k,
    import_strategyqa,
    import_svamp,
    import_table,
)
from backend.importers.core import MAX_FIELD_CHARS
from db.engine import make_engine
from db.migrate import upgrade_to_head
from tests.backend.importers.conftest import row_counts

GOOD_ROW = {"question": "Tom has 3 boxes of 5 pens. How many?", "answer": "3 * 5 = <<3*5=15>>15\n#### 15"}
Importer = Callable[[Session, Path], ImportReport]

IMPORTERS: dict[str, tuple[str, Importer]] = {
    "gsm8k": ("data.jsonl", lambda s, p: import_gsm8k(s, p, show_progress=False)),
    "svamp": ("SVAMP.json", lambda s, p: import_svamp(s, p, show_progress=False)),
    "strategyqa": ("task.json", lambda s, p: import_strategyqa(s, p, show_progress=False)),
    "csv": ("data.csv", lambda s, p: import_table(s, p, columns=ColumnMap(), show_progress=False)),
    "jsonl": ("rows.jsonl", lambda s, p: import_table(s, p, columns=ColumnMap(), show_progress=False)),
}


def attempt(engine: Engine, importer: str, data: bytes) -> ImportReport | ImportFailure:
    """Import `data` as a file; on failure, prove nothing was stored. Any other exception fails the test."""
    file_name, run = IMPORTERS[importer]
    before = row_counts(engine)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / file_name
        path.write_bytes(data)
        try:
            with Session(engine) as session:
                return run(session, path)
        except ImportFailure as failure:
            assert row_counts(engine) == before, f"partial import after: {failure}"
            assert str(failure).startswith(file_name)
            assert failure.line is None or 1 <= failure.line <= data.count(b"\n") + 1
            return failure


def jsonl(*rows: Any) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "data.jsonl: the file is empty"),
        (b"\n \n\n", "data.jsonl: the file is empty"),
        (
            jsonl(GOOD_ROW) + b'{"question": "caf\xe9", "answer": "#### 1"}\n',
            "data.jsonl line 2: not valid UTF-8",
        ),
        (jsonl(GOOD_ROW, [1, 2]), "data.jsonl line 2: expected a JSON object, got list"),
        (
            jsonl(GOOD_ROW, {"question": 7, "answer": "#### 1"}),
            "data.jsonl line 2, field 'question': expected text",
        ),
        (jsonl(GOOD_ROW, {"question": "Q", "answer": ["#### 1"]}), "line 2, field 'answer': expected text"),
        (
            jsonl(GOOD_ROW, {"question": "Q", "answer": "no final line"}),
            "line 2, field 'answer': no final '####",
        ),
        (
            jsonl(GOOD_ROW, {"question": "Q", "answer": "#### lots"}),
            "line 2, field 'answer': 'lots' is not a numeric",
        ),
        (jsonl(GOOD_ROW, {"question": "  ", "answer": "#### 1"}), "line 2, field 'question': empty"),
        (jsonl(GOOD_ROW, {"question": "a\u0000b", "answer": "#### 1"}), "field 'question': contains a NUL"),
        (
            b'{"question": "\\ud800", "answer": "#### 1"}\n',
            "line 1, field 'question': contains an invalid character",
        ),
        (b'{"question": ' + b"1" * 5000 + b"}\n", "data.jsonl line 1: invalid JSON"),
        (b"[" * 100_000 + b"\n", "data.jsonl line 1: invalid JSON"),
    ],
)
def test_bad_gsm8k_files(engine: Engine, data: bytes, expected: str) -> None:
    outcome = attempt(engine, "gsm8k", data)
    assert isinstance(outcome, ImportFailure) and expected in str(outcome)


def test_ten_megabyte_field_is_refused(engine: Engine) -> None:
    huge = "x" * (10 * 1024 * 1024)
    outcome = attempt(engine, "gsm8k", jsonl(GOOD_ROW, GOOD_ROW, {"question": huge, "answer": "#### 1"}))
    assert isinstance(outcome, ImportFailure)
    assert str(outcome) == (
        f"data.jsonl line 3, field 'question': 10,485,760 characters; the limit is {MAX_FIELD_CHARS:,}"
    )
    outcome = attempt(engine, "csv", b"question,answer\n" + huge.encode() + b",1\n")
    assert isinstance(outcome, ImportFailure) and "longer than" in str(outcome)


@pytest.mark.parametrize(
    ("importer", "data", "expected"),
    [
        ("svamp", b'{"ID": 1}', "SVAMP.json line 1: expected a JSON array"),
        (
            "svamp",
            b'[{"ID": "a", "Body": "B", "Question": "Q?", "Answer": 1},\n 5]',
            "line 2: expected a JSON object",
        ),
        ("svamp", b'[{"ID": "a", "Body": "B",\n "Question": "Q?"}]', "line 1, field 'Answer': missing"),
        ("svamp", b"[1, 2", "SVAMP.json line 1: invalid JSON"),
        ("svamp", b"[] []", "extra data"),
        ("svamp", b"[]", "no rows found"),
        (
            "strategyqa",
            b'{"examples": 3}',
            "field 'examples': expected a JSON object with a 'examples' array",
        ),
        (
            "strategyqa",
            b'{"examples": [\n{"input": "Q?", "target_scores": {"Yes": "1"}}]}',
            "line 2, field 'target_scores'",
        ),
        (
            "strategyqa",
            b'{"examples": [\n{"input": "Q?", "target_scores": {"Maybe": 1}}]}',
            "is not Yes or No",
        ),
        ("csv", b"question,answer\nQ?,1\nR?,2,extra\n", "data.csv line 3: more cells than the 2 headers"),
        ("csv", b"q,a\nQ?,1\n", "data.csv line 1, field 'question': no such column"),
        ("csv", b"question,answer\n", "no rows after the header"),
        ("csv", b'question,answer\n"Q?\x00",1\n', "data.csv line 2"),
        (
            "jsonl",
            jsonl({"question": "Q?", "answer": 1}, {"question": "Q?"}),
            "rows.jsonl line 2, field 'answer': missing",
        ),
    ],
)
def test_bad_other_files(engine: Engine, importer: str, data: bytes, expected: str) -> None:
    outcome = attempt(engine, importer, data)
    assert isinstance(outcome, ImportFailure) and expected in str(outcome)


# ---- fuzzing ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    upgrade_to_head(engine)
    return engine


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(importer=st.sampled_from(sorted(IMPORTERS)), data=st.binary(max_size=600))
def test_random_bytes(fuzz_engine: Engine, importer: str, data: bytes) -> None:
    attempt(fuzz_engine, importer, data)


@FUZZ
@given(
    importer=st.sampled_from(["gsm8k", "jsonl"]),
    rows=st.lists(
        st.fixed_dictionaries(
            {}, optional={"question": json_values | st.text(), "answer": json_values | st.text()}
        ),
        min_size=1,
        max_size=4,
    ),
    good=st.integers(min_value=0, max_value=3),
)
def test_wrong_types_and_missing_fields(
    fuzz_engine: Engine, importer: str, rows: list[dict[str, Any]], good: int
) -> None:
    data = jsonl(*[GOOD_ROW] * good, *rows)
    outcome = attempt(fuzz_engine, importer, data)
    bad_rows = [row for row in rows if not isinstance(row.get("question"), str)]
    if bad_rows:
        assert isinstance(outcome, ImportFailure)


@FUZZ
@given(
    importer=st.sampled_from(["svamp", "strategyqa"]),
    items=st.lists(
        st.dictionaries(
            st.sampled_from(["ID", "Body", "Question", "Answer", "input", "target", "target_scores"]),
            json_values,
            max_size=5,
        ),
        max_size=3,
    ),
)
def test_json_documents(fuzz_engine: Engine, importer: str, items: list[dict[str, Any]]) -> None:
    document: Any = items if importer == "svamp" else {"examples": items}
    attempt(fuzz_engine, importer, json.dumps(document, indent=1).encode())


@FUZZ
@given(lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40), min_size=1))
def test_csv_text(fuzz_engine: Engine, lines: list[str]) -> None:
    attempt(fuzz_engine, "csv", ("question,answer\n" + "\n".join(lines)).encode())
