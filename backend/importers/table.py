"""Any JSONL, JSON (array) or CSV file, with a column mapping naming the question, answer, solution,
id and split columns.

The solution column, when given, is parsed like GSM8K (one step per line, "sub-question ** step",
"#### answer") and stored as the reference rationale. An answer cell that holds a whole GSM8K-style
solution (a "#### " line) is read the same way when no solution column is named. Other columns go into
the problem's meta.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from backend.importers.core import (
    ImportFailure,
    ImportReport,
    ParsedProblem,
    ProgressFn,
    Where,
    check_external_id,
    check_split,
    check_storable,
    dataset_spec,
    gold_answer,
    parse_solution,
    text_field,
)
from backend.importers.pipeline import import_rows
from backend.importers.sources import csv_records, json_array_items, jsonl_records


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds what. Only `question` is required; without `answer` problems have no gold."""

    question: str = "question"
    answer: str | None = "answer"
    solution: str | None = None
    id: str | None = None  # default: the row's position in the file
    split: str | None = None  # default: the import's split

    @property
    def named(self) -> list[str]:
        return [name for name in (self.question, self.answer, self.solution, self.id, self.split) if name]


def _solution(record: dict[str, Any], columns: ColumnMap, where: Where, raw_answer: str | None) -> str | None:
    if columns.solution:
        return text_field(record, columns.solution, where, required=False)
    if raw_answer and "####" in raw_answer:
        return raw_answer
    return None


def mapped_problem(
    index: int, where: Where, record: Any, *, columns: ColumnMap, split: str, answer_type: str
) -> ParsedProblem:
    """One row of a table (or a Hugging Face dataset) through the column mapping."""
    if not isinstance(record, dict):
        raise where.fail(None, f"expected an object with named fields, got {type(record).__name__}")
    question = text_field(record, columns.question, where)
    assert question is not None
    raw = text_field(record, columns.answer, where, numbers_ok=True) if columns.answer else None
    solution = _solution(record, columns, where, raw)
    steps, final = parse_solution(solution) if solution else ([], None)
    if raw is not None and solution == raw:
        raw = final  # the answer cell held the whole solution: its "####" line is the gold
        if raw is None:
            raise where.fail(columns.answer, "a solution without a final '#### <answer>' line")
    external_id = text_field(record, columns.id, where, numbers_ok=True) if columns.id else str(index)
    row_split = text_field(record, columns.split, where) if columns.split else split
    assert external_id is not None and row_split is not None
    field_for_answer = columns.answer or columns.solution
    return ParsedProblem(
        line=where.line,
        external_id=check_external_id(external_id, where, columns.id or "id"),
        split=check_split(row_split, where, columns.split or "split"),
        question=question,
        gold_answer_raw=raw or "",
        gold_answer=gold_answer(raw, answer_type, where, field_for_answer or "answer") if raw else None,
        gold_solution=solution,
        steps=steps,
        solution_answer=gold_answer(final, answer_type, where, columns.solution or "answer")
        if final
        else None,
        meta=_meta(record, columns, where),
    )


def _meta(record: dict[str, Any], columns: ColumnMap, where: Where) -> dict[str, Any]:
    """Unmapped columns with simple values (text, numbers, booleans), length-checked like any field."""
    meta = {}
    for key, value in record.items():
        if key in columns.named or not isinstance(key, str) or value is None:
            continue
        check_storable(key, where, key)
        if isinstance(value, str):
            value = text_field(record, key, where, required=False)
        if isinstance(value, str | int | float | bool):
            meta[key] = value
    return meta


def table_rows(path: Path, columns: ColumnMap) -> Iterable[tuple[int, Any]]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        rows = csv_records(path)
        first = next(rows, None)
        if first is None:
            raise ImportFailure(path.name, None, None, "no rows after the header")
        missing = [name for name in columns.named if name not in first[1]]
        if missing:
            header = ", ".join(first[1])
            raise ImportFailure(path.name, 1, missing[0], f"no such column; the header has: {header}")
        return [first, *rows]
    if suffix == ".json":
        return json_array_items(path)
    if suffix == ".jsonl":
        return jsonl_records(path)
    raise ImportFailure(path.name, None, None, f"unsupported file type {suffix!r}; use .jsonl, .json or .csv")


def import_table(
    session: Session,
    path: str | Path,
    *,
    columns: ColumnMap,
    split: str = "train",
    name: str | None = None,
    answer_type: str = "numeric",
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import a JSONL/JSON/CSV file through `columns` into dataset `name` (default: the file's stem)."""
    path = Path(path)
    split = check_split(split, path.name)
    source = "csv" if path.suffix.lower() in (".csv", ".tsv") else "jsonl"
    spec = dataset_spec(
        name or path.stem,
        source=source,
        answer_type=answer_type,
        description=f"imported from {path.name}",
        file=path.name,
    )
    return import_rows(
        session, spec, table_rows(path, columns),
        lambda index, where, record: mapped_problem(
            index, where, record, columns=columns, split=split, answer_type=answer_type
        ),
        file=path.name, show_progress=show_progress, on_progress=on_progress,
    )  # fmt: skip
