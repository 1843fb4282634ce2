"""Exports: curated records (a frozen set, or any filter) to the formats other tools train on.

For each student kind (answer_only, cot, decomposer, solver, unified, decompose_only) the examples are
exactly `student_formats.examples_for`'s, written as
    prompt_completion  TRL prompt/completion JSONL: {"prompt": ..., "completion": ...} per line
    messages           chat JSONL: {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}
    dataset            a `datasets.Dataset` with prompt and completion columns, saved with save_to_disk
Rationales that cannot make a kind's examples (no final answer for CoT, no sub-questions for Socratic
kinds, steps without text for a solver) are dropped, and the report says how many and why.
Paths are confined below the export root (settings.export_root) so a user cannot write elsewhere.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from backend.files.paths import PathNotAllowed, confined_path
from backend.queries.filters import RationaleFilter
from backend.rationales import steps_from_content
from backend.sets.curation import CuratedRecord
from backend.student_formats import Example, StepText
from backend.training.data import ExampleBuild, examples_from_records
from db.models import Dataset, Problem, Rationale, Revision, Step, StudentKind
from db.settings import get_settings

EXPORT_FORMATS = ("prompt_completion", "messages", "dataset")


class ExportError(ValueError):
    """An export that cannot be written (bad path, unknown format, nothing to write); nothing was written."""


@dataclass(frozen=True)
class ExportReport:
    written: int  # examples written (Socratic kinds give several per rationale)
    skipped: int  # rationales dropped, for any reason (see `dropped`)
    records: int  # rationales given
    path: Path
    dropped: dict[str, int]  # reason -> rationales

    def summary(self) -> str:
        used = self.records - self.skipped
        reasons = ", ".join(f"{count:,} {reason}" for reason, count in self.dropped.items())
        skipped = f"; dropped {self.skipped:,} rationales: {reasons}" if self.skipped else ""
        return f"wrote {self.written:,} examples from {used:,} rationales to {self.path}{skipped}"


def export_path(user_path: str | Path, *, allowed_root: Path | None = None) -> Path:
    """`user_path` resolved below the export root (or `allowed_root`); `..` escapes are refused."""
    root = allowed_root if allowed_root is not None else get_settings().resolved_export_root
    try:
        return confined_path(str(user_path), root=root)
    except PathNotAllowed as error:
        raise ExportError(f"cannot export there: {error}") from None


def build_examples(records: Sequence[CuratedRecord], kind: StudentKind) -> ExampleBuild:
    """Every usable record's examples for `kind` (the training formats), and what was dropped why."""
    return examples_from_records(records, kind=kind)


def write_jsonl(path: Path, lines: Sequence[dict[str, object]]) -> None:
    # Written beside the target and renamed over it: a crash never leaves half a file behind.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _is_saved_dataset(folder: Path) -> bool:
    return (folder / "dataset_info.json").exists() or (folder / "state.json").exists()


def _write_dataset(path: Path, examples: Sequence[Example]) -> None:
    import datasets  # heavy import: only for this format

    if path.exists() and not (path.is_dir() and (_is_saved_dataset(path) or not any(path.iterdir()))):
        raise ExportError(f"{path} exists and is not a saved dataset; choose a new folder")
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        columns = {"prompt": [e.prompt for e in examples], "completion": [e.completion for e in examples]}
        datasets.Dataset.from_dict(columns).save_to_disk(str(staging / "data"))
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging / "data", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_records(
    records: Sequence[CuratedRecord],
    *,
    kind: StudentKind,
    fmt: str,
    path: str | Path,
    allowed_root: Path | None = None,
) -> ExportReport:
    """Write `records` as `kind` examples in format `fmt` to `path` (confined below the export root)."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    target = export_path(path, allowed_root=allowed_root)
    build = build_examples(records, StudentKind(kind))
    examples = build.examples
    if not examples:
        reason = f" ({build.describe_dropped()} for {kind})" if build.dropped else ""
        raise ExportError(f"nothing to export: no examples from {len(records):,} rationales{reason}")
    if target.is_dir() and fmt != "dataset":
        raise ExportError(f"{target} is a folder; give a file name such as {target / 'train.jsonl'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "prompt_completion":
        write_jsonl(target, [{"prompt": e.prompt, "completion": e.completion} for e in examples])
    elif fmt == "messages":
        write_jsonl(target, [{"messages": e.as_messages()} for e in examples])
    else:
        _write_dataset(target, examples)
    return ExportReport(
        written=len(examples),
        skipped=build.dropped.total(),
        records=len(records),
        path=target,
        dropped=dict(build.dropped),
    )


def _steps_from_rows(session: Session, rationale_ids: Sequence[int]) -> dict[int, list[StepText]]:
    """Current steps from Step rows, for rationales written without a revision (rare: older rows)."""
    steps: dict[int, list[StepText]] = {rationale_id: [] for rationale_id in rationale_ids}
    rows = session.exec(
        select(Step)
        .where(col(Step.rationale_id).in_(rationale_ids))
        .order_by(col(Step.rationale_id), col(Step.position))
    ).all()
    for step in rows:
        steps[step.rationale_id].append(StepText(sub_question=step.sub_question, text=step.text))
    return steps


def records_for_filter(session: Session, *, rationale_filter: RationaleFilter) -> list[CuratedRecord]:
    """What a curated set would hold for this filter, read live from each rationale's current revision."""
    query = (
        select(Rationale, Problem, Dataset.answer_type, Revision)
        .join(Problem, col(Problem.id) == Rationale.problem_id)
        .join(Dataset, col(Dataset.id) == Rationale.dataset_id)
        .outerjoin(
            Revision,
            (col(Revision.rationale_id) == Rationale.id)
            & (col(Revision.number) == Rationale.current_revision),
        )
        .order_by(col(Rationale.id))
    )
    rows = session.exec(rationale_filter.apply(query)).all()  # type: ignore[call-overload]
    without_revision = [rationale.id for rationale, _, _, revision in rows if revision is None]
    fallback = _steps_from_rows(session, without_revision) if without_revision else {}
    records = []
    for rationale, problem, answer_type, revision in rows:
        content = revision.content if revision is not None else {}
        steps = steps_from_content(content) if revision is not None else fallback[rationale.id]
        records.append(
            CuratedRecord(
                rationale_id=rationale.id,
                revision_number=revision.number if revision is not None else 0,
                problem_id=problem.id,
                question=problem.question,
                gold_answer=problem.gold_answer,
                answer_type=answer_type,
                steps=steps,
                final_answer=content.get("final_answer") or rationale.final_answer or "",
            )
        )
    return records
