"""Curate builds, freezes and exports a set; Failures opens an evaluation run's wrong answers; login."""

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from backend.annotation import named_queues
from db.models import AnnotationQueue, CuratedItem, CuratedSet, EvalRun, EvalTrace, Rationale
from tests.browser.conftest import FIXTURE_DATASET, Studio
from tests.browser.ui import cell, fill, open_app, open_tab, pick, shoot
from tests.webapp.seed import PASSWORD
from webapp import strings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
S = strings.Failures


def test_curate_build_freeze_and_export_a_set(page: Page, studio: Studio) -> None:
    open_app(page, studio.url, "Curate")
    pick(page, "curate-dataset", FIXTURE_DATASET)
    pick(page, "curate-verdict", "correct")
    fill(page, "curate-picks", str(studio.rationale_ids[1]))  # one wrong rationale picked by hand
    page.click("#curate-preview")
    expect(page.locator("#curate-summary")).to_contain_text("7 rationales selected")
    fill(page, "curate-name", "browser-set")
    page.click("#curate-create")
    expect(page.locator("#curate-status")).to_contain_text("Created set 'browser\\-set'".replace("\\", ""))
    pick(page, "curate-set", "browser-set")
    page.click("#curate-freeze")
    expect(page.locator("#curate-status")).to_contain_text("7 items pinned")
    pick(page, "curate-export-set", "browser-set")
    fill(page, "curate-out", "browser/set.jsonl")
    page.click("#curate-export")
    expect(page.locator("#curate-status")).to_contain_text("wrote 7 examples")
    shoot(page, "curate")
    with Session(studio.engine) as session:
        curated = session.exec(select(CuratedSet).where(CuratedSet.name == "browser-set")).one()
        items = session.exec(select(CuratedItem).where(CuratedItem.set_id == curated.id)).all()
    assert curated.frozen_at is not None and {item.revision_number for item in items} >= {1}
    exported = (studio.home / "exports" / "browser" / "set.jsonl").read_text().splitlines()
    assert len(exported) == 7 and json.loads(exported[0])["prompt"].startswith("Q: ")


def test_failures_of_an_evaluation_run(page: Page, studio: Studio) -> None:
    open_app(page, studio.url, "Failures")
    pick(page, "failures-run", "socratic-fixture")
    page.click("#failures-show")
    expect(page.locator("#failures-summary")).to_contain_text("2 wrong of 3")
    cell(page, "failures-table", 0, 3).click()
    expect(page.locator("#failures-question textarea")).to_have_value(
        "Tom has 3 boxes of 5 pens. How many pens does he have?"
    )
    expect(page.locator("#failures-trace")).to_contain_text("How many pens in all?")
    expect(page.locator("#failures-trace")).to_contain_text("first divergent")
    expect(page.locator("#failures-related")).to_contain_text("teacher")
    shoot(page, "failures")


@pytest.fixture
def second_evaluation(studio: Studio) -> Iterator[str]:
    """Another evaluation of the fixture's problems, right on the first two (removed afterwards): the
    fixture's run is right on the first only, so it lost the second against this one."""
    with Session(studio.engine) as session:
        first = session.exec(select(EvalRun).where(EvalRun.name == "socratic-fixture")).one()
        run = EvalRun(name="two-right", method="socratic", n_problems=3, n_correct=2)
        session.add(run)
        session.commit()
        traces = session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == first.id)).all()
        session.add_all(
            EvalTrace(eval_run_id=run.id or 0, problem_id=trace.problem_id, correct=index < 2)
            for index, trace in enumerate(sorted(traces, key=lambda t: t.id or 0))
        )
        session.commit()
        run_id = run.id
    yield "two-right"
    with Session(studio.engine) as session:
        for trace in session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == run_id)).all():
            session.delete(trace)
        session.delete(session.get(EvalRun, run_id))
        session.commit()


def test_a_run_is_compared_with_another_paired(page: Page, studio: Studio, second_evaluation: str) -> None:
    open_app(page, studio.url, "Failures")
    pick(page, "failures-run", "socratic-fixture")
    pick(page, "failures-against", second_evaluation)
    comparison = page.locator("#failures-comparison")
    expect(comparison).to_contain_text("two-right (before) against socratic-fixture (after), 3 problems")
    expect(comparison).to_contain_text("Before 66.7% (2/3")
    expect(comparison).to_contain_text("(+0/-1)")
    shoot(page, "failures-compare")
    page.locator("#failures-lost input").check()  # only what the fixture's run lost against it
    summary = page.locator("#failures-summary")
    expect(summary).to_contain_text("2 wrong of 3 evaluated; showing 1.")
    expect(summary).to_contain_text("Only the problems two-right answered correctly.")
    expect(page.locator("#failures-table tbody tr")).to_have_count(1)
    page.locator("#failures-lost input").uncheck()
    expect(summary).to_contain_text("showing 2.")


@pytest.fixture
def sent_failures_removed(studio: Studio) -> Iterator[None]:
    """The browser tests share one studio: the queues and the rationales sent to them go afterwards."""
    yield
    with Session(studio.engine) as session:
        for queue in session.exec(select(AnnotationQueue)).all():
            for rationale_id in named_queues.queue_rationale_ids(session, queue_id=queue.id or 0):
                session.delete(session.get(Rationale, rationale_id))
            session.delete(queue)
        session.commit()


@pytest.mark.usefixtures("sent_failures_removed")
def test_one_class_of_failures_goes_to_a_named_queue_that_annotate_walks(page: Page, studio: Studio) -> None:
    open_app(page, studio.url, "Failures")
    pick(page, "failures-run", "socratic-fixture")
    pick(page, "failures-category", "wrong_final")
    page.click("#failures-show")
    expect(page.locator("#failures-summary")).to_contain_text("showing 2")
    page.locator("#failures-send-box").get_by_text(S.SEND_TITLE).click()
    page.locator("#failures-which").get_by_text("every failure the filters above match").click()
    fill(page, "failures-queue-name", "final answers")
    page.click("#failures-send")
    expect(page.locator("#failures-sent")).to_contain_text(
        "2 rationales of 2 failures to the queue final answers"
    )
    with Session(studio.engine) as session:
        queue = session.exec(select(AnnotationQueue).where(AnnotationQueue.name == "final answers")).one()
        members = named_queues.queue_rationale_ids(session, queue_id=queue.id or 0)
    assert len(members) == 2
    open_tab(page, "Annotate")
    page.locator("#annotate-filter").get_by_text(strings.Filter.TITLE, exact=True).first.click()
    pick(page, "annotate-queue", "final answers (2 of 2 to review)")
    pick(page, "annotate-mode", "Everything the filter matches")
    info = page.locator("#annotate-info strong").first
    page.click("#annotate-next")
    expect(info).to_have_text(f"Rationale #{members[0]}")
    page.click("#annotate-next")
    expect(info).to_have_text(f"Rationale #{members[1]}")
    page.click("#annotate-next")
    expect(page.locator("#annotate-status")).to_contain_text("No more items")
    shoot(page, "failures-queue")


def test_login_is_required_when_auth_is_on(page: Page, auth_studio: Studio) -> None:
    page.goto(auth_studio.url)
    page.get_by_label("username").fill("alice")
    page.get_by_label("password").fill("wrong password")
    page.get_by_role("button", name="Login").click()
    expect(page.get_by_text("Incorrect Credentials")).to_be_visible()
    page.get_by_label("username").fill("alice")  # the form clears the name after a failed attempt
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#app-user")).to_contain_text("Signed in as alice (annotator)")
    shoot(page, "login")
