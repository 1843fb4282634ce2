"""Explore shows the demo data and filters it; Annotate edits a sub-question and accepts (checked in the DB);
untrusted text stays inert."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from db.models import Rationale, Review, Revision
from tests.browser.conftest import Studio
from tests.browser.ui import cell, edit_cell, fill, open_app, open_tab, pick, shoot
from tests.webapp.seed import XSS_QUESTION

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_explore_shows_demo_rows_and_filters_them(page: Page, studio: Studio) -> None:
    open_app(page, studio.url)
    expect(page.locator("#explore-summary")).to_contain_text("matching rationales")
    expect(page.locator("#explore-table")).to_contain_text("demo-gsm_symbolic")
    fill(page, "explore-search", "boxes of 5 pens")
    page.click("#explore-apply")
    expect(page.locator("#explore-summary")).to_contain_text(
        "10 matching rationales"
    )  # 5 problems x 2 samples
    expect(page.locator("#explore-table")).not_to_contain_text("demo-gsm_symbolic")
    shoot(page, "explore")
    cell(page, "explore-table", 0, 4).click()  # a row's question: opens that rationale in Annotate
    expect(page.locator("#annotate-question textarea")).to_have_value(re.compile("boxes of 5 pens"))


def test_annotate_edit_a_sub_question_and_accept(page: Page, studio: Studio) -> None:
    target = studio.rationale_ids[2]
    open_app(page, studio.url, "Annotate")
    fill(page, "annotate-open-id", str(target))
    page.click("#annotate-open")
    expect(page.locator("#annotate-info")).to_contain_text(f"Rationale #{target}")
    page.get_by_text("Edit steps (e)").click()  # the step editor is folded under the rating panel
    edit_cell(page, "annotate-steps", 0, 0, "How many pens does a single box hold?")
    expect(cell(page, "annotate-steps", 0, 0)).to_contain_text("a single box")
    page.locator("#annotate-advance input").uncheck()
    page.click("#annotate-accept")
    expect(page.locator("#annotate-status")).to_contain_text("Recorded accept")
    shoot(page, "annotate")
    with Session(studio.engine) as session:
        revision = session.exec(
            select(Revision).where(Revision.rationale_id == target).order_by(col(Revision.number).desc())
        ).first()
        review = session.exec(select(Review).where(Review.rationale_id == target)).one()
        rationale = session.get(Rationale, target)
    assert revision is not None and revision.number == 2
    assert revision.content["steps"][0]["sub_question"] == "How many pens does a single box hold?"
    assert (
        review.verdict == "accept"
        and review.revision_number == 2
        and review.reviewer_id == revision.author_id
    )
    assert rationale is not None and rationale.review_status == "accepted"


def test_annotate_keyboard_shortcuts_walk_the_queue(page: Page, studio: Studio) -> None:
    open_app(page, studio.url, "Annotate")
    info = page.locator("#annotate-info strong").first  # "Rationale #N"
    page.locator("body").click()
    page.keyboard.press("n")
    expect(info).to_have_text(re.compile(r"Rationale #\d+"))
    first = info.inner_text()
    page.keyboard.press("n")
    expect(info).not_to_have_text(first)
    page.keyboard.press("p")
    expect(info).to_have_text(first)
    page.locator("#annotate-comment textarea, #annotate-comment input").first.click()
    page.keyboard.type("pn")  # typing in a field never triggers a shortcut
    page.wait_for_timeout(1500)
    expect(info).to_have_text(first)
    shoot(page, "annotate-shortcuts")


def test_untrusted_question_text_is_inert(page: Page, studio: Studio) -> None:
    xss = studio.rationale_ids[6]  # the fourth fixture problem's first sample
    open_app(page, studio.url)
    fill(page, "explore-search", "pwned")
    page.click("#explore-apply")
    expect(page.locator("#explore-table")).to_contain_text("<script>window.__pwned=1</script>")
    open_tab(page, "Annotate")
    fill(page, "annotate-open-id", str(xss))
    page.click("#annotate-open")
    expect(page.locator("#annotate-question textarea")).to_have_value(XSS_QUESTION)
    shoot(page, "xss")
    open_tab(page, "Step through")
    pick(page, "step-dataset", "fixture-socratic")
    page.locator("#step-problem input").click()  # the option list shows every question, the payload too
    expect(page.get_by_role("option", name=re.compile("pwned")).first).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
