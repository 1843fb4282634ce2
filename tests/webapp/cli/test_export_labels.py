"""`socratic-studio export --format processbench|prm800k`: the Curate page's step-label exports."""

import json
from pathlib import Path

from sqlmodel import Session

from backend.access.auth import create_user
from backend.annotation import review_rationale
from backend.sets import curation
from db.engine import open_database
from db.models import Role
from tests.backend.annotation.conftest import store_rationale
from tests.factories import make_dataset, make_problem
from tests.webapp.cli.test_data import cli, db_url  # noqa: F401 (db_url is a fixture)


def _frozen_set(url: str, *, rated: bool) -> None:
    """A frozen set `labelled` of two two-step rationales; if `rated`, the first is rated wrong at step 2."""
    cli(url, "jobs", "list")  # creates and migrates the database
    with Session(open_database(url)) as session:
        dataset = make_dataset(session)
        rows = [
            store_rationale(session, make_problem(session, dataset, external_id=f"p{i}")) for i in range(2)
        ]
        if rated:
            alice = create_user(session, username="alice", role=Role.annotator)
            session.refresh(rows[0])
            review_rationale(
                session, rationale_id=rows[0].id or 0, expected_version=rows[0].version, verdict="reject",
                reviewer=alice, step_ratings=[1, -1],
            )  # fmt: skip
        frozen = curation.create_set(session, name="labelled", picks=[row.id or 0 for row in rows])
        curation.freeze(session, set_id=frozen.id or 0)


def test_processbench_and_prm800k_write_the_rated_steps(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    _frozen_set(db_url, rated=True)
    output = cli(db_url, "export", "labelled", "--format", "processbench", "--out", "pb.jsonl")
    assert "wrote 1 step-labelled rationales of 2; 1 had no usable step ratings" in output
    [line] = (tmp_path / "exports" / "pb.jsonl").read_text().splitlines()
    assert json.loads(line)["label"] == 1  # the earliest wrong step, counted from 0
    cli(db_url, "export", "labelled", "--format", "prm800k", "--out", "prm.jsonl")
    [line] = (tmp_path / "exports" / "prm.jsonl").read_text().splitlines()
    assert [step["rating"] for step in json.loads(line)["steps"]] == [1, -1]


def test_a_step_label_format_without_ratings_is_a_clear_error(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    _frozen_set(db_url, rated=False)
    output = cli(db_url, "export", "labelled", "--format", "processbench", "--out", "pb.jsonl", ok=False)
    assert "none of the 2 rationales has a review with step ratings" in output
    assert not (tmp_path / "exports" / "pb.jsonl").exists()


def test_an_unknown_set_or_format_is_a_clear_error(db_url: str) -> None:  # noqa: F811
    _frozen_set(db_url, rated=True)
    assert "nope" in cli(db_url, "export", "nope", "--format", "prm800k", "--out", "x.jsonl", ok=False)
    output = cli(db_url, "export", "labelled", "--format", "prm801k", "--out", "x.jsonl", ok=False)
    assert "prm801k" in output
