"""A tiny round from the Train page, end to end in Chromium: a CoT student (a tiny random GPT-2) samples
its set's two questions twice, the next student trains on the set and what was kept, and both are
evaluated on the same two problems; the page lists the round with its paired test."""

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from backend.queries.filters import RationaleFilter
from backend.sets import curation
from db.models import (
    CuratedSet,
    Dataset,
    EvalRun,
    Job,
    JobKind,
    ModelCheckpoint,
    Rationale,
    StudentKind,
    TeacherRun,
    TrainingRun,
)
from tests.browser.conftest import FIXTURE_DATASET, Studio
from tests.browser.test_models import wait_for_job
from tests.browser.ui import fill, open_app, pick, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
STUDENT = "browser-round-student"


def _two_question_student(studio: Studio) -> None:
    """A CoT checkpoint trained (as far as the round knows) on a set of two of the fixture's questions."""
    with Session(studio.engine) as session:
        dataset = session.exec(select(Dataset).where(Dataset.name == FIXTURE_DATASET)).one()
        correct = RationaleFilter(dataset_id=dataset.id, verdict="correct")
        ids = session.exec(correct.apply(select(Rationale.id)).order_by(col(Rationale.id)).limit(2)).all()
        curated = curation.create_set(session, name="round-two-questions", picks=[i for i in ids if i])
        curation.freeze(session, set_id=curated.id or 0)
        budget = {"generation_budget": {"max_tokens": 8}}  # short samples: a random model never stops
        run = TrainingRun(name=STUDENT, set_id=curated.id or 0, student_kind=StudentKind.cot,
                          base_model=str(studio.tiny_model), hyperparams=budget)  # fmt: skip
        session.add(run)
        session.commit()
        checkpoint = ModelCheckpoint(name=STUDENT, role=StudentKind.cot, path=str(studio.tiny_model),
                                     training_run_id=run.id)  # fmt: skip
        session.add(checkpoint)
        session.commit()


def test_a_tiny_round_from_the_train_page(page: Page, studio: Studio) -> None:
    _two_question_student(studio)
    open_app(page, studio.url, "Train")
    page.get_by_text("Improve a student by rounds").click()
    pick(page, "round-student", f"{STUDENT} (cot)")
    fill(page, "round-k", "2")
    pick(page, "round-dataset", FIXTURE_DATASET)
    fill(page, "round-limit", "2")
    fill(page, "round-epochs", "1")
    page.click("#round-start")
    expect(page.locator("#round-message")).to_contain_text("Started round job")
    with Session(studio.engine) as session:
        job = session.exec(select(Job).where(Job.kind == JobKind.round).order_by(col(Job.id).desc())).first()
    assert job is not None
    done = wait_for_job(studio, job.id, timeout_s=600)
    assert done.status == "succeeded", f"the round ended {done.status}: {done.error}"
    expect(page.locator("#round-runs")).to_contain_text("McNemar", timeout=60_000)
    shoot(page, "round")
    with Session(studio.engine) as session:
        samples = session.exec(
            select(Rationale).join(TeacherRun).where(TeacherRun.name == f"round-{job.id}-samples")
        ).all()
        assert len(samples) == 2 * 2  # k = 2 samples of each of the two questions
        assert (
            session.exec(select(CuratedSet).where(CuratedSet.name == f"round-{job.id}-set")).one().frozen_at
        )
        evals = session.exec(select(EvalRun).where(col(EvalRun.name).startswith(f"round-{job.id}-"))).all()
        assert sorted(e.n_problems for e in evals) == [2, 2]
