"""Exports: every student kind x format, each loaded back with `datasets`; skipping; path confinement."""

import json
from pathlib import Path

import datasets
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.importers import import_gsm8k, import_reasoning_gym
from backend.queries.filters import RationaleFilter
from backend.sets.curation import CuratedRecord, create_set, freeze, frozen_records
from backend.sets.exporters import (
    EXPORT_FORMATS,
    ExportError,
    build_examples,
    export_records,
    records_for_filter,
)
from backend.student_formats import ANSWER_PREFIX, END_MARKER, StepText
from db.models import StudentKind
from tests.factories import make_dataset, make_problem, make_rationale

SOCRATIC_KINDS = {StudentKind.decomposer, StudentKind.solver, StudentKind.unified, StudentKind.decompose_only}


@pytest.fixture
def records(engine: Engine, shared_datasets: Path, tmp_path: Path) -> list[CuratedRecord]:
    """Five GSM8K Socratic reference rationales plus three plain CoT ones (no sub-questions), frozen."""
    lines = (shared_datasets / "gsm8k" / "test_socratic.jsonl").read_text().splitlines()[:5]
    small = tmp_path / "test_socratic.jsonl"
    small.write_text("\n".join(lines) + "\n")
    with Session(engine) as session:
        import_gsm8k(session, small, show_progress=False)
        import_reasoning_gym(session, "gsm_symbolic", size=3, seed=1, show_progress=False)
        curated = create_set(session, name="mixed", rationale_filter=RationaleFilter())
        assert curated.id is not None
        freeze(session, set_id=curated.id)
        return frozen_records(session, set_id=curated.id)


def load(path: Path, fmt: str, cache: Path) -> datasets.Dataset:
    if fmt == "dataset":
        return datasets.load_from_disk(str(path))
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
@pytest.mark.parametrize("kind", list(StudentKind))
def test_every_kind_and_format_loads(
    records: list[CuratedRecord], tmp_path: Path, kind: StudentKind, fmt: str
) -> None:
    root = tmp_path / "exports"
    name = "out" if fmt == "dataset" else "out.jsonl"
    report = export_records(records, kind=kind, fmt=fmt, path=name, allowed_root=root)
    build = build_examples(records, kind)
    examples = build.examples
    assert report.path == (root / name).resolve() and report.records == 8
    assert (report.written, report.skipped) == (len(examples), build.dropped.total())
    assert report.skipped == (3 if kind in SOCRATIC_KINDS else 0)
    loaded = load(report.path, fmt, tmp_path / "cache")
    assert len(loaded) == report.written
    first = loaded[0]
    if fmt == "messages":
        assert [m["role"] for m in first["messages"]] == ["user", "assistant"]
        assert first["messages"][0]["content"] == examples[0].prompt
    else:
        assert (first["prompt"], first["completion"]) == (examples[0].prompt, examples[0].completion)


def test_example_contents(records: list[CuratedRecord], tmp_path: Path) -> None:
    report = export_records(
        records, kind=StudentKind.cot, fmt="prompt_completion", path="cot.jsonl", allowed_root=tmp_path
    )
    first = json.loads(report.path.read_text().splitlines()[0])
    assert first["prompt"].startswith("Q: Janet") and first["completion"].endswith(f"{ANSWER_PREFIX} 18")
    report = export_records(
        records, kind=StudentKind.decomposer, fmt="prompt_completion", path="d.jsonl", allowed_root=tmp_path
    )
    rows = [json.loads(line) for line in report.path.read_text().splitlines()]
    assert (
        rows[0]["completion"] == " How many eggs does Janet sell?"
        and rows[2]["completion"] == f" {END_MARKER}"
    )
    assert report.written == sum(len(r.steps) + 1 for r in records if r.steps[0].sub_question)


def test_paths_are_confined(records: list[CuratedRecord], tmp_path: Path) -> None:
    root = tmp_path / "exports"
    for bad in ("../escape.jsonl", str(tmp_path / "elsewhere.jsonl"), "a/../../x.jsonl", ""):
        with pytest.raises(ExportError, match="cannot export there"):
            export_records(records, kind=StudentKind.cot, fmt="messages", path=bad, allowed_root=root)
    assert not (tmp_path / "escape.jsonl").exists() and not (tmp_path / "elsewhere.jsonl").exists()
    nested = export_records(
        records, kind=StudentKind.cot, fmt="messages", path="a/b/c.jsonl", allowed_root=root
    )
    assert nested.path == (root / "a" / "b" / "c.jsonl").resolve()


def test_default_root_comes_from_settings(
    records: list[CuratedRecord], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.settings import get_settings

    monkeypatch.setenv("SOCRATIC_EXPORT_ROOT", str(tmp_path / "configured"))
    get_settings.cache_clear()
    try:
        report = export_records(records, kind=StudentKind.cot, fmt="messages", path="x.jsonl")
        with pytest.raises(ExportError):
            export_records(records, kind=StudentKind.cot, fmt="messages", path=str(tmp_path / "x.jsonl"))
    finally:
        get_settings.cache_clear()
    assert report.path == (tmp_path / "configured" / "x.jsonl").resolve()


def test_clear_errors(records: list[CuratedRecord], tmp_path: Path) -> None:
    cot_only = [r for r in records if not r.steps[0].sub_question]
    with pytest.raises(ExportError, match="nothing to export: no examples from 3 rationales"):
        export_records(
            cot_only, kind=StudentKind.solver, fmt="messages", path="s.jsonl", allowed_root=tmp_path
        )
    with pytest.raises(ExportError, match="unknown format 'parquet'"):
        export_records(records, kind=StudentKind.cot, fmt="parquet", path="s.pq", allowed_root=tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not a saved dataset"):
        export_records(records, kind=StudentKind.cot, fmt="dataset", path="notes", allowed_root=tmp_path)
    with pytest.raises(ExportError, match="is a folder"):
        export_records(records, kind=StudentKind.cot, fmt="messages", path="notes", allowed_root=tmp_path)
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_dataset_export_replaces_an_earlier_one(records: list[CuratedRecord], tmp_path: Path) -> None:
    export_records(records, kind=StudentKind.cot, fmt="dataset", path="ds", allowed_root=tmp_path)
    again = export_records(
        records, kind=StudentKind.answer_only, fmt="dataset", path="ds", allowed_root=tmp_path
    )
    assert datasets.load_from_disk(str(again.path))[0]["completion"].startswith(f" {ANSWER_PREFIX}")


def test_records_for_filter(engine: Engine, session: Session) -> None:
    dataset = make_dataset(session)
    problem = make_problem(session, dataset)
    make_rationale(session, problem, steps=[("How many pens?", "3 * 5 = 15 pens.")])  # no revision rows
    with Session(engine) as fresh:
        (record,) = records_for_filter(fresh, rationale_filter=RationaleFilter(dataset_id=dataset.id))
        assert records_for_filter(fresh, rationale_filter=RationaleFilter(verdict="wrong")) == []
    assert record.steps == [StepText("How many pens?", "3 * 5 = 15 pens.")]
    assert (record.final_answer, record.answer_type, record.revision_number) == ("15", "numeric", 0)


def test_records_for_filter_reads_current_revision(records: list[CuratedRecord], engine: Engine) -> None:
    with Session(engine) as session:
        live = records_for_filter(session, rationale_filter=RationaleFilter(source="reference", min_steps=1))
    assert [(r.rationale_id, r.steps, r.final_answer) for r in live] == [
        (r.rationale_id, r.steps, r.final_answer) for r in records
    ]
