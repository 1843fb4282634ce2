"""Done-when: no id typed to open what a page has just shown. An Explore row opens Annotate on that
rationale, a failure shows its trace (and a related rationale opens in Annotate), a job shows its log and
is picked for cancel / resume, a set shows its preview."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from backend.jobs import store
from db.models import JobKind, JobStatus
from tests.browser.conftest import TRAIN_SET, Studio
from tests.browser.ui import cell, fill, open_app, open_tab, pick, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_explore_row_opens_annotate_on_that_rationale(page: Page, studio: Studio) -> None:
    open_app(page, studio.url)
    fill(page, "explore-search", "pwned")  # the fixture's one XSS question: a single problem, two rows
    page.click("#explore-apply")
    expect(page.locator("#explore-summary")).to_contain_text("2 matching")
    wanted = studio.rationale_ids[7]  # the XSS problem's second sample: the second row
    cell(page, "explore-table", 1, 4).click()  # the second row's question
    expect(page.get_by_role("tab", name="Annotate", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#annotate-info")).to_contain_text(f"Rationale #{wanted}")
    expect(page.locator("#annotate-rating .step-row").first).to_be_visible()
    assert page.evaluate("window.__pwned") is None


def test_failure_row_shows_its_trace_and_a_related_rationale_opens_annotate(
    page: Page, studio: Studio
) -> None:
    open_app(page, studio.url, "Failures")
    pick(page, "failures-run", "socratic-fixture")
    page.click("#failures-show")
    expect(page.locator("#failures-summary")).to_contain_text("2 wrong of 3")
    cell(page, "failures-table", 1, 3).click()
    expect(page.locator("#failures-trace")).to_contain_text("first divergent")
    expect(page.locator("#failures-related")).to_contain_text("teacher")
    shoot(page, "failures-clicked")
    related = cell(page, "failures-related", 0, 0).inner_text().strip()
    cell(page, "failures-related", 0, 1).click()
    expect(page.locator("#annotate-info")).to_contain_text(f"Rationale #{related}")


def test_job_row_shows_its_log_and_picks_it(page: Page, studio: Studio) -> None:
    log = studio.home / "click-job.log"
    log.write_text("loading the teacher\ngenerated 3/3 rationales\n")
    with Session(studio.engine) as session:
        job = store.create_job(session, kind=JobKind.generate, params={})
        job.status, job.log_path, job.message = JobStatus.succeeded, str(log), "3 rationales"
        session.add(job)
        session.commit()
        job_id = job.id
    open_app(page, studio.url, "Generate")
    message = page.locator("#gen-jobs").get_by_role("gridcell", name="3 rationales").first
    expect(message).to_be_visible()
    message.click()
    expect(page.locator("#gen-job-log textarea")).to_have_value(re.compile("generated 3/3 rationales"))
    expect(page.locator("#gen-job-id input")).to_have_value(str(job_id))
    shoot(page, "job-clicked")


def test_set_row_shows_its_preview(page: Page, studio: Studio) -> None:
    open_app(page, studio.url, "Curate")
    name = page.locator("#curate-sets").get_by_role("gridcell", name=TRAIN_SET, exact=True).first
    expect(name).to_be_visible()
    name.click()
    expect(page.locator("#curate-summary")).to_contain_text(f"Set '{TRAIN_SET}' (frozen)")
    expect(page.locator("#curate-sample")).to_contain_text("Tom has")
    expect(page.locator("#curate-export-set input")).to_have_value(re.compile(TRAIN_SET))
    open_tab(page, "Explore")
