"""What every importer shares: parsed rows, the failure and report types, field checks, solution parsing.

An import runs in two phases. Parsing reads and validates EVERY row into `ParsedProblem`s, raising
`ImportFailure` (file, line, field) at the first bad one; only then does `store.write_problems` write
them all in one transaction. So one bad row anywhere means nothing is imported.

Limits (documented for users; a row over one is refused with an error that names it):
    MAX_FIELD_CHARS  question, solution and other text fields: 100,000 characters
    MAX_ID_CHARS     external ids: 200 characters;  MAX_SPLIT_CHARS  split names: 32 characters
    MAX_ANSWER_CHARS normalised gold answers: 200 characters
"""

import gc
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from backend.checks.answers import ANSWER_TYPES, normalize_answer
from backend.checks.calculator import annotate_step
from backend.progress_bar import progress_bar

MAX_FIELD_CHARS = 100_000
MAX_ID_CHARS = 200
MAX_SPLIT_CHARS = 32
MAX_ANSWER_CHARS = 200

# Called as on_progress(done, total, message) while parsing and writing (the job runner's hook).
ProgressFn = Callable[[int, int, str], None]

# A Socratic GSM8K line is "sub-question ** step"; the spaces keep `<<2**3=8>>` from counting as one.
_SOCRATIC_SEPARATOR = re.compile(r"\s\*\*(?:\s|$)")
_FINAL_LINE = re.compile(r"^\s*####\s*(.*)$")


class ImportFailure(Exception):
    """A row that cannot be imported; nothing from the file was stored."""

    def __init__(self, file: str, line: int | None, field: str | None, problem: str) -> None:
        self.file, self.line, self.field, self.problem = file, line, field, problem
        where = file + (f" line {line}" if line is not None else "")
        what = f", field {field!r}" if field is not None else ""
        super().__init__(f"{where}{what}: {problem}")


@dataclass
class ImportReport:
    dataset: str
    dataset_id: int
    added: int
    unchanged: int
    changed: int
    seconds: float
    # External ids whose content differs from what is stored: reported, never overwritten or duplicated.
    changed_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.dataset}: {self.added:,} added, {self.unchanged:,} unchanged, "
            f"{self.changed:,} changed ({self.seconds:.1f} s)"
        )
        if self.changed_ids:
            shown = ", ".join(self.changed_ids[:10]) + (" ..." if len(self.changed_ids) > 10 else "")
            text += (
                f"\nchanged rows were kept as stored (import them under another --name to keep both): {shown}"
            )
        return text


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    source: str  # gsm8k, svamp, strategyqa, reasoning_gym, jsonl, csv, hf
    answer_type: str = "numeric"
    description: str = ""


@dataclass
class ParsedProblem:
    """One validated row, ready to write. `steps` are gold steps in Problem.gold_steps form."""

    line: int
    external_id: str
    split: str
    question: str
    gold_answer_raw: str
    gold_answer: str | None
    gold_solution: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    # The final answer the solution itself states ("#### 72"); with steps, it makes a reference rationale.
    solution_answer: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def content_hash(self) -> str:
        parts = (self.question, self.gold_answer_raw, self.gold_solution or "")
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Where:
    """The row being parsed, so every check can name file and line."""

    file: str
    line: int

    def fail(self, field_name: str | None, problem: str) -> ImportFailure:
        return ImportFailure(self.file, self.line, field_name, problem)


def text_field(
    record: Mapping[str, Any],
    name: str,
    where: Where,
    *,
    required: bool = True,
    numbers_ok: bool = False,
    max_chars: int = MAX_FIELD_CHARS,
) -> str | None:
    """A text field of a row, checked for presence, type and length; numbers become text if allowed."""
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise where.fail(name, "missing" if value is None else "empty")
        return None
    if numbers_ok and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        kind = "text or a number" if numbers_ok else "text"
        raise where.fail(name, f"expected {kind}, got {type(value).__name__} {str(value)[:40]!r}")
    if len(value) > max_chars:
        raise where.fail(name, f"{len(value):,} characters; the limit is {max_chars:,}")
    check_storable(value, where, name)
    return value.strip()


def check_storable(value: str, where: Where, name: str | None) -> None:
    """Text every database can store: no NUL (PostgreSQL refuses it) and no lone surrogate ("\ud800"
    is valid JSON but not UTF-8)."""
    if "\x00" in value:
        raise where.fail(name, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise where.fail(name, "contains an invalid character (a lone UTF-16 surrogate)") from None


def check_split(split: str, where: Where | str, field_name: str = "split") -> str:
    """A valid split name; `where` is the row (for a split column) or the file (for a --split option)."""
    split = split.strip()
    if not split or len(split) > MAX_SPLIT_CHARS:
        problem = f"a split name needs 1 to {MAX_SPLIT_CHARS} characters, got {split[:40]!r}"
        if isinstance(where, Where):
            raise where.fail(field_name, problem)
        raise ImportFailure(where, None, field_name, problem)
    return split


def check_external_id(external_id: str, where: Where, field_name: str = "id") -> str:
    external_id = external_id.strip()
    if not external_id or len(external_id) > MAX_ID_CHARS:
        raise where.fail(field_name, f"an id needs 1 to {MAX_ID_CHARS} characters, got {external_id[:40]!r}")
    return external_id


def gold_answer(raw: str, answer_type: str, where: Where, field_name: str) -> str:
    """The normalised gold answer; a gold that cannot be read as its type is an error, not a silent None."""
    if answer_type not in ANSWER_TYPES:
        raise where.fail(None, f"unknown answer type {answer_type!r}; use one of {', '.join(ANSWER_TYPES)}")
    answer = normalize_answer(raw, answer_type)
    if answer is None:
        raise where.fail(field_name, f"{raw[:60]!r} is not a {answer_type.replace('_', '/')} answer")
    if len(answer) > MAX_ANSWER_CHARS:
        raise where.fail(field_name, f"the answer is longer than {MAX_ANSWER_CHARS} characters")
    return answer


def gold_step(sub_question: str | None, text: str) -> dict[str, Any]:
    """One step in Problem.gold_steps form, with its calculator annotations checked."""
    expressions, value = annotate_step(text)
    return {"sub_question": sub_question, "text": text, "expressions": expressions, "value": value}


def parse_solution(solution: str) -> tuple[list[dict[str, Any]], str | None]:
    """GSM8K-style solution text -> (steps, final answer text after "####").

    One step per non-empty line; "sub-question ** step" lines (GSM8K Socratic) keep their sub-question.
    """
    steps, final = [], None
    for line in solution.split("\n"):
        line = line.strip()
        if not line:
            continue
        final_match = _FINAL_LINE.match(line)
        if final_match:
            final = final_match.group(1).strip()
            continue
        parts = _SOCRATIC_SEPARATOR.split(line, maxsplit=1)
        sub_question, text = (parts[0].strip(), parts[1].strip()) if len(parts) == 2 else (None, line)
        steps.append(gold_step(sub_question or None, text))
    return steps, final


def default_split(file_stem: str) -> str:
    """ "test_socratic" -> "test", "train" -> "train"; anything else is a training file."""
    head = file_stem.lower().split("_")[0].split("-")[0].split(".")[0]
    return head if head in ("train", "test", "validation", "dev", "val") else "train"


def dataset_spec(name: str, *, source: str, answer_type: str, description: str, file: str) -> DatasetSpec:
    name = name.strip()
    if not name or len(name) > 200:
        raise ImportFailure(
            file, None, "name", f"a dataset name needs 1 to 200 characters, got {name[:40]!r}"
        )
    if answer_type not in ANSWER_TYPES:
        raise ImportFailure(
            file, None, "answer_type", f"unknown answer type {answer_type!r}; use {ANSWER_TYPES}"
        )
    return DatasetSpec(name=name, source=source, answer_type=answer_type, description=description)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a few million small, acyclic objects.

    With hundreds of thousands of live rows each generation-2 pass rescans all of them; pausing cut
    the CPU time of a 20,000-problem import by about a quarter. Reference counting still frees memory.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_rows(
    rows: Iterable[tuple[int, Any]],
    parse_row: Callable[[int, Where, Any], ParsedProblem],
    *,
    file: str,
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
    total: int | None = None,
) -> list[ParsedProblem]:
    """Parse and validate every row (parse_row(index, where, record)) before anything is written."""
    problems = []
    bar = progress_bar(rows, desc=f"reading {file}", unit="row", total=total, disable=not show_progress)
    with paused_gc(), bar:
        for index, (line, record) in enumerate(bar):
            problems.append(parse_row(index, Where(file, line), record))
            if on_progress and index % 1000 == 999:
                on_progress(index + 1, total or 0, f"read {index + 1:,} rows")
    if not problems:
        raise ImportFailure(file, None, None, "no rows found")
    return problems
