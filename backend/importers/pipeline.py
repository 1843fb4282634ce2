"""The one shape every file import has: read the rows, parse each through the format's own field mapping
(nothing is written until every row parses), then store the problems in one transaction.

A format (gsm8k, svamp, strategyqa, table, reasoning-gym) supplies only its rows, its row parser and its
dataset. A Hugging Face import reads several splits, each checked against the columns, before its one write.
"""

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlmodel import Session

from backend.importers.core import DatasetSpec, ImportReport, ParsedProblem, ProgressFn, Where, parse_rows
from backend.importers.store import write_problems

RowParser = Callable[[int, Where, Any], ParsedProblem]  # (index, where, record) -> the problem


def import_rows(
    session: Session,
    spec: DatasetSpec | Callable[[Sequence[ParsedProblem]], DatasetSpec],
    rows: Iterable[tuple[int, Any]],
    parse_row: RowParser,
    *,
    file: str,
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
    total: int | None = None,
) -> ImportReport:
    """Parse every row of `file` (`total`: how many, for the progress bar, where known), then store them in
    dataset `spec` (or the one it names from the parsed problems, where the rows decide the dataset)."""
    started = time.perf_counter()
    problems = parse_rows(
        rows, parse_row, file=file, show_progress=show_progress, on_progress=on_progress, total=total
    )
    dataset = spec(problems) if callable(spec) else spec
    return write_problems(
        session,
        dataset,
        problems,
        file=file,
        started=started,
        show_progress=show_progress,
        on_progress=on_progress,
    )
