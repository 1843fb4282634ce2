"""Hugging Face `datasets`: a dataset saved with `save_to_disk` (a local folder) or anything
`load_dataset` can open (a hub name where the hub is reachable, a local script or data folder), mapped
through the same columns as table files. Rows are numbered from 1 in error messages, per split.
"""

import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlmodel import Session

from backend.importers.core import (
    ImportFailure,
    ImportReport,
    ParsedProblem,
    ProgressFn,
    check_split,
    dataset_spec,
    parse_rows,
)
from backend.importers.store import write_problems
from backend.importers.table import ColumnMap, mapped_problem


def _is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / marker).exists() for marker in ("dataset_dict.json", "state.json"))


def load_splits(name_or_path: str, *, split: str | None, config: str | None) -> dict[str, Any]:
    """{split name: datasets.Dataset}; a single Dataset counts as `split` (default "train")."""
    import datasets  # heavy import: only when importing from datasets

    path = Path(name_or_path).expanduser()
    try:
        if _is_saved_dataset(path):
            loaded = datasets.load_from_disk(str(path))
        else:
            loaded = datasets.load_dataset(name_or_path, config, split=split)
    except (
        Exception
    ) as error:  # datasets raises many kinds (FileNotFoundError, ConnectionError, ValueError, ...)
        raise ImportFailure(name_or_path, None, None, f"cannot load the dataset: {error}") from None
    if isinstance(loaded, datasets.DatasetDict):
        if split is not None and split not in loaded:
            raise ImportFailure(
                name_or_path, None, "split", f"no split {split!r}; it has {', '.join(loaded)}"
            )
        return {split: loaded[split]} if split else dict(loaded)
    return {split or "train": loaded}


def import_hf(
    session: Session,
    name_or_path: str,
    *,
    columns: ColumnMap,
    split: str | None = None,
    config: str | None = None,
    name: str | None = None,
    answer_type: str = "numeric",
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import every split (or one) of a Hugging Face dataset into `name` (default: its last path part)."""
    started = time.perf_counter()
    label = name_or_path
    spec = dataset_spec(
        name or Path(name_or_path.rstrip("/")).name or name_or_path,
        source="hf",
        answer_type=answer_type,
        description=f"Hugging Face dataset {name_or_path}",
        file=label,
    )
    problems: list[ParsedProblem] = []
    for split_name, dataset in load_splits(name_or_path, split=split, config=config).items():
        checked = check_split(str(split_name), label)
        missing = [column for column in columns.named if column not in dataset.column_names]
        if missing:
            available = ", ".join(dataset.column_names)
            raise ImportFailure(
                f"{label}[{checked}]", None, missing[0], f"no such column; it has: {available}"
            )
        problems += parse_rows(
            ((row_number, row) for row_number, row in enumerate(dataset, start=1)),
            partial(mapped_problem, columns=columns, split=checked, answer_type=answer_type),
            file=f"{label}[{checked}]",
            show_progress=show_progress,
            on_progress=on_progress,
            total=len(dataset),
        )
    return write_problems(
        session,
        spec,
        problems,
        file=label,
        started=started,
        show_progress=show_progress,
        on_progress=on_progress,
    )
