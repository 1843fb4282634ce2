"""SVAMP (`SVAMP.json`): `[{"ID", "Body", "Question", "Equation", "Answer", "Type"}]`.

The problem is `Body + " " + Question`; the answer a float; Equation and Type go into the problem's meta.
There are no solution steps, so no reference rationale.
"""

from pathlib import Path
from typing import Any

from sqlmodel import Session

from backend.importers.core import (
    ImportReport,
    ParsedProblem,
    ProgressFn,
    Where,
    check_external_id,
    check_split,
    dataset_spec,
    gold_answer,
    text_field,
)
from backend.importers.pipeline import import_rows
from backend.importers.sources import json_array_items


def parse_svamp_row(where: Where, record: Any, *, split: str) -> ParsedProblem:
    if not isinstance(record, dict):
        raise where.fail(None, f"expected a JSON object, got {type(record).__name__}")
    external_id = text_field(record, "ID", where, numbers_ok=True)
    body = text_field(record, "Body", where)
    question = text_field(record, "Question", where)
    raw_answer = text_field(record, "Answer", where, numbers_ok=True)
    assert external_id is not None and body is not None and question is not None and raw_answer is not None
    meta = {key: text_field(record, key, where, required=False) for key in ("Equation", "Type")}
    return ParsedProblem(
        line=where.line,
        external_id=check_external_id(external_id, where, "ID"),
        split=split,
        question=f"{body} {question}",
        gold_answer_raw=raw_answer,
        gold_answer=gold_answer(raw_answer, "numeric", where, "Answer"),
        meta={key: value for key, value in meta.items() if value is not None},
    )


def import_svamp(
    session: Session,
    path: str | Path,
    *,
    split: str = "test",
    name: str = "svamp",
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import SVAMP.json (1,000 problems); SVAMP is a challenge set, so the default split is "test"."""
    path = Path(path)
    split = check_split(split, path.name)
    spec = dataset_spec(name, source="svamp", answer_type="numeric", description="SVAMP", file=path.name)
    return import_rows(
        session, spec, json_array_items(path),
        lambda _index, where, record: parse_svamp_row(where, record, split=split),
        file=path.name, show_progress=show_progress, on_progress=on_progress,
    )  # fmt: skip
