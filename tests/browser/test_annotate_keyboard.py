"""Done-when: ten rationales reviewed with the keyboard alone (step ratings, step and rationale tags, an
edit, accept / reject / flag), then the stored reviews and the ProcessBench / PRM800K exports checked."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from backend.queries.filters import RationaleFilter
from backend.sets.exporters import records_for_filter
from backend.sets.step_label_export import export_step_labels
from db.models import Review, Revision
from tests.browser.conftest import Studio
from tests.browser.ui import open_app, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EDITED = "Each box holds exactly 5 pens."


@dataclass
class Plan:
    """What the labeler presses for one rationale, and what the store must then hold."""

    keys: list[str]
    ratings: list[int | None]
    verdict: str
    step_tags: list[list[str]] = field(default_factory=list)
    error_tags: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # keys once the next rationale is on screen


def _plan(index: int, steps: int) -> Plan:
    """Three patterns in turn: all +1 then accept; +1, -1 tagged arithmetic, then 0s, reject with a
    rationale tag; and (stop at the first error on) -1 on the first step, flag."""
    if index % 3 == 0:
        return Plan(["1"] * steps + ["a"], [1] * steps, "accept")
    if index % 3 == 1:
        back = ["k"] if steps > 2 else []  # a rating moves on to the next step; k comes back to the -1
        keys = ["1", "-", *back, "t", "1", "Escape", "j", *["0"] * (steps - 2), "g", "1", "Escape", "r"]
        tags = [[], ["arithmetic"], *[[] for _ in range(steps - 2)]]
        return Plan(keys, [1, -1, *[0] * (steps - 2)], "reject", tags, ["arithmetic"])
    # s: stop at the first error; the 1 pressed on the grayed step after the -1 is ignored.
    return Plan(["s", "-", "j", "1", "f"], [-1, *[None] * (steps - 1)], "flag", after=["s"])


def _rationale_id(page: Page) -> int:
    text = page.locator("#annotate-info strong").first.inner_text()
    return int(re.search(r"#(\d+)", text).group(1))  # type: ignore[union-attr]


def _press(page: Page, keys: list[str]) -> None:
    for key in keys:
        page.keyboard.press(key)
        page.wait_for_timeout(60)  # a labeler's pace; the panel's script updates between keys


def _edit_first_step(page: Page) -> None:
    """`e` opens the step editor on the current step; Enter keeps the text, Esc goes back to rating."""
    page.keyboard.press("e")
    expect(page.locator("#annotate-steps textarea, #annotate-steps input").first).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type(EDITED)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)


def _review_ten(page: Page) -> dict[int, Plan]:
    done: dict[int, Plan] = {}
    page.keyboard.press("n")  # the first unreviewed rationale
    expect(page.locator("#annotate-rating .step-row").first).to_be_visible()
    for index in range(10):
        rationale_id = _rationale_id(page)
        steps = page.locator("#annotate-rating .step-row").count()
        assert steps >= 2, f"rationale {rationale_id} has {steps} steps; the plans need two"
        plan = _plan(index, steps)
        if index == 0:
            _edit_first_step(page)
        _press(page, plan.keys[:-1])
        if index == 1:  # what a labeler sees just before deciding: ratings, the -1's tag, the marker
            expect(page.locator("#annotate-rating .first-wrong-label")).to_have_text("First wrong step: 2")
            shoot(page, "annotate-after")
        _press(page, plan.keys[-1:])
        expect(page.locator("#annotate-status")).to_contain_text(
            f"Recorded {plan.verdict} for rationale #{rationale_id}"
        )
        expect(page.locator("#annotate-info strong").first).not_to_have_text(f"Rationale #{rationale_id}")
        _press(page, plan.after)
        done[rationale_id] = plan
    return done


def _check_reviews(studio: Studio, done: dict[int, Plan]) -> None:
    with Session(studio.engine) as session:
        for rationale_id, plan in done.items():
            review = session.exec(
                select(Review).where(Review.rationale_id == rationale_id).order_by(col(Review.id).desc())
            ).first()
            assert review is not None, rationale_id
            assert (str(review.verdict), review.step_ratings) == (plan.verdict, plan.ratings), rationale_id
            first_wrong = plan.ratings.index(-1) if -1 in plan.ratings else None
            assert review.first_wrong_step == first_wrong
            assert review.error_tags == plan.error_tags
            assert [tags for tags in review.step_tags if tags] == [t for t in plan.step_tags if t]
            assert review.seconds_spent is not None and 0 < review.seconds_spent < 600
        first = next(iter(done))
        revision = session.exec(
            select(Revision).where(Revision.rationale_id == first).order_by(col(Revision.number).desc())
        ).first()
        assert revision is not None and revision.content["steps"][0]["text"] == EDITED


def _check_exports(studio: Studio, done: dict[int, Plan], tmp_path: Path) -> None:
    import datasets

    with Session(studio.engine) as session:
        records = [
            r
            for r in records_for_filter(session, rationale_filter=RationaleFilter())
            if r.rationale_id in done
        ]
        paths = {
            fmt: export_step_labels(
                session, records, fmt=fmt, path=f"{fmt}.jsonl", allowed_root=tmp_path
            ).path
            for fmt in ("processbench", "prm800k")
        }
    bench = datasets.load_dataset("json", data_files=str(paths["processbench"]), split="train").to_list()
    prm = datasets.load_dataset("json", data_files=str(paths["prm800k"]), split="train").to_list()
    assert {row["rationale_id"] for row in bench} == {row["rationale_id"] for row in prm} == set(done)
    for row in bench:
        ratings = done[row["rationale_id"]].ratings
        assert row["label"] == (ratings.index(-1) if -1 in ratings else -1)
    for row in prm:
        assert [step["rating"] for step in row["steps"]] == done[row["rationale_id"]].ratings
    edited = next(row for row in prm if row["rationale_id"] == next(iter(done)))
    assert edited["steps"][0]["text"] == EDITED and edited["revision"] == 2  # labels of the edited text


def test_review_ten_rationales_with_the_keyboard_only(page: Page, studio: Studio, tmp_path: Path) -> None:
    open_app(page, studio.url, "Annotate")  # the one click: choosing the tab
    expect(page.locator("#annotate-rating")).to_be_visible()
    page.keyboard.press("?")
    expect(page.locator("#annotate-keys")).to_have_class(re.compile("keys-open"))
    page.keyboard.press("Escape")
    expect(page.locator("#annotate-keys")).not_to_have_class(re.compile("keys-open"))
    done = _review_ten(page)
    assert len(done) == 10
    _check_reviews(studio, done)
    _check_exports(studio, done, tmp_path)
