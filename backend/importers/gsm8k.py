"""GSM8K (main and Socratic formats): `{"question", "answer"}` per JSONL line.

The answer is the gold solution, one step per line with `<<48/2=24>>` calculator annotations and a last
line `#### 72` (the gold answer). In the Socratic files each step line is `sub-question ** step`; the
format is detected per line. The solution is also stored as the dataset's REFERENCE rationale.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session

from backend.importers.core import (
    DatasetSpec,
    ImportReport,
    ParsedProblem,
    ProgressFn,
    Where,
    check_split,
    dataset_spec,
    default_split,
    gold_answer,
    parse_rows,
    parse_solution,
    text_field,
)
from backend.importers.pipeline import import_rows
from backend.importers.sources import jsonl_records


def parse_gsm8k_row(
    index: int, where: Where, record: dict[str, Any], *, split: str, file_stem: str
) -> ParsedProblem:
    question = text_field(record, "question", where)
    solution = text_field(record, "answer", where)
    assert question is not None and solution is not None
    steps, final = parse_solution(solution)
    if final is None:
        raise where.fail("answer", "no final '#### <answer>' line")
    gold = gold_answer(final, "numeric", where, "answer")
    return ParsedProblem(
        line=where.line,
        # GSM8K has no ids: file and row, so train row 5 never collides with test row 5.
        external_id=f"{file_stem}:{index}",
        split=split,
        question=question,
        gold_answer_raw=final,
        gold_answer=gold,
        gold_solution=solution,
        steps=steps,
        solution_answer=gold,
    )


def parse_gsm8k(
    path: Path, *, split: str, show_progress: bool = True, on_progress: ProgressFn | None = None
) -> list[ParsedProblem]:
    return parse_rows(
        jsonl_records(path),
        lambda index, where, record: parse_gsm8k_row(index, where, record, split=split, file_stem=path.stem),
        file=path.name,
        show_progress=show_progress,
        on_progress=on_progress,
    )


def import_gsm8k(
    session: Session,
    path: str | Path,
    *,
    split: str | None = None,
    name: str | None = None,
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import a GSM8K JSONL file. The split comes from the file name unless given, and so does the default
    dataset name ("gsm8k-train", "gsm8k-test", "gsm8k_socratic-test"), so train and test never merge."""
    path = Path(path)
    split = check_split(split or default_split(path.stem), path.name)

    def spec(problems: Sequence[ParsedProblem]) -> DatasetSpec:
        socratic = any(step["sub_question"] for problem in problems for step in problem.steps)
        return dataset_spec(
            name or f"{'gsm8k_socratic' if socratic else 'gsm8k'}-{split}",
            source="gsm8k",
            answer_type="numeric",
            description="GSM8K " + ("Socratic (sub-question ** step)" if socratic else "grade-school math"),
            file=path.name,
        )

    return import_rows(
        session, spec, jsonl_records(path),
        lambda index, where, record: parse_gsm8k_row(index, where, record, split=split, file_stem=path.stem),
        file=path.name, show_progress=show_progress, on_progress=on_progress,
    )  # fmt: skip
