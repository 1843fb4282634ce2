"""Step-label exports (ProcessBench and PRM800K shapes) load with `datasets` and match the stored reviews."""

from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from backend.access.auth import create_user
from backend.annotation import review_rationale, save_edit
from backend.queries.filters import RationaleFilter
from backend.sets import curation
from backend.sets.exporters import ExportError, records_for_filter
from backend.sets.step_label_export import export_step_labels
from backend.student_formats import StepText
from db.models import Rationale, Review, Role, User
from tests.backend.annotation.conftest import store_rationale
from tests.factories import make_dataset, make_problem


def _review(session: Session, rationale: Rationale, user: User, ratings: list[int | None], **extra) -> None:
    session.refresh(rationale)
    review_rationale(
        session,
        rationale_id=rationale.id or 0,
        expected_version=rationale.version,
        verdict="reject" if -1 in ratings else "accept",
        reviewer=user,
        step_ratings=ratings,
        **extra,
    )


@pytest.fixture
def reviewed(session: Session) -> list[Rationale]:
    """Five two-step rationales: wrong at step 2; re-rated by a second annotator; half rated; rated then
    edited (the rating describes revision 1 only); never rated."""
    alice = create_user(session, username="alice", role=Role.annotator)
    bob = create_user(session, username="bob", role=Role.annotator)
    dataset = make_dataset(session)
    rows = [store_rationale(session, make_problem(session, dataset, external_id=f"p{i}")) for i in range(5)]
    _review(session, rows[0], alice, [1, -1], step_tags=[[], ["arithmetic"]])
    _review(session, rows[1], alice, [1, 1])
    _review(session, rows[1], bob, [1, 0])  # the latest review of the same revision wins
    _review(session, rows[2], alice, [1, None])
    _review(session, rows[3], alice, [-1, 1])
    session.refresh(rows[3])
    save_edit(
        session,
        rationale_id=rows[3].id or 0,
        expected_version=rows[3].version,
        steps=[StepText(None, "3 * 5 = 15 pens."), StepText(None, "15 - 2 = 13 pens.")],
        final_answer="13",
        author=bob,
    )
    return rows


def _load(path: Path) -> list[dict]:
    import datasets

    return datasets.load_dataset("json", data_files=str(path), split="train").to_list()


def _stored(session: Session, rationale_id: int) -> Review:
    return session.exec(
        select(Review).where(Review.rationale_id == rationale_id).order_by(col(Review.id).desc())
    ).first()  # type: ignore[return-value]


def test_processbench_labels_are_the_earliest_wrong_step(
    session: Session, reviewed: list[Rationale], tmp_path: Path
) -> None:
    records = records_for_filter(session, rationale_filter=RationaleFilter())
    report = export_step_labels(session, records, fmt="processbench", path="pb.jsonl", allowed_root=tmp_path)
    rows = _load(report.path)
    ids = [r.id for r in reviewed]
    # Half-rated (no -1, a step unrated) says nothing about where the first error is; the edited one's
    # rating is of revision 1, not the current revision 2; the last was never rated.
    assert [row["rationale_id"] for row in rows] == ids[:2]
    assert (report.written, report.unlabelled) == (2, 3)
    for row in rows:
        review = _stored(session, row["rationale_id"])
        expected = -1 if review.first_wrong_step is None else review.first_wrong_step
        assert row["label"] == expected and row["review_id"] == review.id
        assert row["revision"] == review.revision_number == 1
    assert [row["label"] for row in rows] == [1, -1]
    assert rows[0]["steps"] == ["3 * 5 = <<3*5=15>>15 pens.", "15 - 2 = <<15-2=13>>13 pens."]
    assert rows[1]["reviewer"] == "bob" and rows[0]["problem"].startswith("Tom has")


def test_prm800k_ratings_per_step_from_a_frozen_set(
    session: Session, reviewed: list[Rationale], tmp_path: Path
) -> None:
    frozen = curation.create_set(session, name="labelled", picks=[r.id or 0 for r in reviewed])
    curation.freeze(session, set_id=frozen.id or 0)
    records = curation.frozen_records(session, set_id=frozen.id or 0)
    report = export_step_labels(session, records, fmt="prm800k", path="sub/prm.jsonl", allowed_root=tmp_path)
    rows = _load(report.path)
    assert [row["rationale_id"] for row in rows] == [r.id for r in reviewed[:3]]
    for row in rows:
        review = _stored(session, row["rationale_id"])
        assert [step["rating"] for step in row["steps"]] == review.step_ratings
        assert [step["tags"] for step in row["steps"]] == review.step_tags
    assert [step["rating"] for step in rows[2]["steps"]] == [1, None]  # unrated stays null
    assert rows[0]["steps"][1]["tags"] == ["arithmetic"]
    assert rows[0]["steps"][0]["sub_question"] == "How many pens are in the boxes?"


def test_nothing_rated_or_a_bad_path_is_a_clear_error(
    session: Session, reviewed: list[Rationale], tmp_path: Path
) -> None:
    root = tmp_path / "exports"
    unrated = records_for_filter(session, rationale_filter=RationaleFilter(review_status="unreviewed"))
    with pytest.raises(ExportError, match="rate steps in Annotate first"):
        export_step_labels(session, unrated, fmt="prm800k", path="x.jsonl", allowed_root=root)
    records = records_for_filter(session, rationale_filter=RationaleFilter())
    with pytest.raises(ExportError, match="cannot export there"):
        export_step_labels(session, records, fmt="prm800k", path="../x.jsonl", allowed_root=root)
    with pytest.raises(ExportError, match="unknown step-label format"):
        export_step_labels(session, records, fmt="csv", path="x.jsonl", allowed_root=root)
    assert not root.exists() or list(root.iterdir()) == []
