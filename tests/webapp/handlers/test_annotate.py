"""Annotate handlers: queue, edits as revisions, reviews with step ratings, conflicts that keep the user's
text, roles."""

import json
import time

import gradio as gr
import pandas as pd
import pytest
from sqlmodel import Session, col, select

from backend import annotation
from backend.access.limits import MAX_STEPS
from db.models import Rationale, Review, Revision, User
from tests.webapp.conftest import as_user
from webapp.context import AppContext
from webapp.handlers.annotate import AnnotateHandlers
from webapp.handlers.annotate_history import BulkHandlers, HistoryHandlers
from webapp.handlers.annotate_screen import Screen


def _edited(screen: Screen, row: int, column: str, value: str) -> pd.DataFrame:
    table = screen.steps.copy()
    table.loc[row, column] = value
    return table


def _labels(ratings: list[int | None], step_tags: list[list[str]] | None = None) -> str:
    """The JSON the page's script keeps in the hidden labels field."""
    return json.dumps({"ratings": ratings, "step_tags": step_tags or []})


def _revisions(session: Session, rationale_id: int) -> list[Revision]:
    session.expire_all()
    return list(
        session.exec(
            select(Revision).where(Revision.rationale_id == rationale_id).order_by(col(Revision.number))
        )
    )


def test_next_walks_the_unreviewed_queue_in_id_order(app: AppContext, rationales: list[Rationale]) -> None:
    handlers = AnnotateHandlers(app)
    first = handlers.next({}, {}, "unreviewed", as_user(None))
    assert first.current["rationale_id"] == rationales[0].id
    assert first.question.startswith("Tom has 2 boxes")
    second = handlers.next({}, first.current, "unreviewed", as_user(None))
    assert second.current["rationale_id"] == rationales[1].id
    back = handlers.previous({}, second.current, "unreviewed", as_user(None))
    assert back.current["rationale_id"] == rationales[0].id
    assert list(first.steps.columns) == ["sub_question", "text"]
    assert first.panel.count('class="step-row"') == len(first.steps)  # one rating row per step
    assert json.loads(first.labels) == {"ratings": [], "step_tags": []}


def test_queue_respects_the_filter_and_says_when_it_ends(
    app: AppContext, rationales: list[Rationale]
) -> None:
    handlers = AnnotateHandlers(app)
    wrong_only = {"verdict": "wrong"}
    screen = handlers.next(wrong_only, {}, "filter", as_user(None))
    assert screen.current["rationale_id"] == rationales[1].id  # sample 1 is the wrong one
    last = {"rationale_id": rationales[-1].id, "version": 1}
    end = handlers.next(wrong_only, last, "filter", as_user(None))
    assert "No more items" in end.status
    assert end.current == gr.skip()  # the open rationale stays


def test_save_stores_a_revision_by_the_acting_user(
    app: AppContext,
    auth_app: AppContext,
    users: dict[str, User],
    rationales: list[Rationale],
    session: Session,
) -> None:
    handlers = AnnotateHandlers(auth_app)
    screen = handlers.open(rationales[0].id)
    table = _edited(screen, 0, "sub_question", "How many pens does one box hold?")
    saved = handlers.save(screen.current, table, "10", "clearer question", as_user("alice"))
    assert saved.current["version"] == screen.current["version"] + 1
    assert "revision 2" in saved.status
    revisions = _revisions(session, rationales[0].id or 0)
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[1].author_id == users["alice"].id
    assert revisions[1].content["steps"][0]["sub_question"] == "How many pens does one box hold?"
    assert revisions[1].comment == "clearer question"


def test_saving_unchanged_content_writes_nothing(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    handlers = AnnotateHandlers(app)
    screen = handlers.open(rationales[0].id)
    result = handlers.save(screen.current, screen.steps, screen.final_answer, "", as_user(None))
    assert "Nothing to save" in result.status
    assert len(_revisions(session, rationales[0].id or 0)) == 1


def test_accept_saves_pending_edits_then_records_the_review(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    handlers = AnnotateHandlers(auth_app)
    screen = handlers.open(rationales[1].id)
    table = _edited(screen, 1, "text", "2 * 5 = 10 pens.")
    result = handlers.accept(
        {},
        screen.current,
        table,
        "10",
        _labels([1, 0], [[], ["irrelevant-step"]]),
        ["arithmetic"],
        "fixed the sum",
        False,
        "unreviewed",
        False,
        as_user("alice"),
    )
    assert "accept" in result.status and "first wrong step: none" in result.status
    session.expire_all()
    rationale = session.get(Rationale, rationales[1].id)
    assert rationale is not None and rationale.review_status == "accepted" and rationale.current_revision == 2
    review = session.exec(select(Review).where(Review.rationale_id == rationales[1].id)).one()
    assert review.reviewer_id == users["alice"].id and review.revision_number == 2
    assert review.step_ratings == [1, 0] and review.error_tags == ["arithmetic"]
    assert review.step_tags == [[], ["irrelevant-step"]] and review.first_wrong_step is None
    # The next time it is opened, the panel shows these ratings as pressed buttons.
    again = handlers.open(rationales[1].id)
    assert json.loads(again.labels)["ratings"] == [1, 0]
    assert again.panel.count('aria-pressed="true"') == 3  # two ratings and one step tag


def test_reject_derives_the_first_wrong_step_and_auto_advances(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    handlers = AnnotateHandlers(app)
    screen = handlers.open(rationales[0].id)
    labels = _labels([1, -1], [[], ["arithmetic"]])
    result = handlers.reject(
        {}, screen.current, screen.steps, screen.final_answer, labels, [], "", True, "unreviewed", False,
        as_user(None),
    )  # fmt: skip
    assert result.current["rationale_id"] == rationales[1].id  # moved on to the next unreviewed item
    assert "first wrong step: 2" in result.status
    review = session.exec(select(Review).where(Review.rationale_id == rationales[0].id)).one()
    assert review.verdict == "reject" and review.first_wrong_step == 1  # 0-based in the store
    assert review.step_tags == [[], ["arithmetic"]]


def test_time_spent_is_stored_and_stop_at_first_error_drops_later_ratings(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    handlers = AnnotateHandlers(app)
    screen = handlers.open(rationales[0].id)
    opened = {**screen.current, "opened_at": time.time() - 42}  # opened 42 s ago
    handlers.reject(
        {}, opened, screen.steps, screen.final_answer, _labels([-1, 1], [["arithmetic"], ["formatting"]]),
        [], "", False, "unreviewed", True, as_user(None),
    )  # fmt: skip
    review = session.exec(select(Review).where(Review.rationale_id == rationales[0].id)).one()
    assert review.step_ratings == [-1, None] and review.step_tags == [["arithmetic"], []]
    assert review.seconds_spent is not None and 42 <= review.seconds_spent < 60


@pytest.mark.parametrize(
    ("labels", "error"),
    [
        ("{not json", "not valid"),
        (_labels([2, 1]), "must be \\+1, 0 or -1"),
        (_labels([1, 1, 1]), "more than the 2 steps"),
        (_labels([1], [["made-up"]]), "unknown or malformed"),
        ('["a list"]', "not valid"),
        # Issue 26: bounded by the steps shown before json.loads (2 steps here), nesting included.
        (_labels([1, 1])[:-1] + ', "pad": "' + " " * 5_000 + '"}', "not valid"),
        ("[" * 1_100, "not valid"),
    ],
)
def test_bad_labels_from_the_browser_are_refused(
    app: AppContext, rationales: list[Rationale], session: Session, labels: str, error: str
) -> None:
    handlers = AnnotateHandlers(app)
    screen = handlers.open(rationales[0].id)
    with pytest.raises(gr.Error, match=error):
        handlers.accept(
            {}, screen.current, screen.steps, "10", labels, [], "", False, "unreviewed", False, as_user(None)
        )
    assert session.exec(select(Review)).first() is None


def test_a_forged_opening_time_records_no_time(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    handlers = AnnotateHandlers(app)
    screen = handlers.open(rationales[0].id)
    for forged in (time.time() + 3600, "yesterday"):
        current = {**screen.current, "opened_at": forged}
        screen = handlers.accept(
            {}, current, screen.steps, "10", "", [], "", False, "unreviewed", False, as_user(None)
        )
    reviews = session.exec(select(Review).where(Review.rationale_id == rationales[0].id)).all()
    assert [r.seconds_spent for r in reviews] == [None, None]


def test_a_stale_save_keeps_the_users_text_and_shows_the_other_change(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    handlers = AnnotateHandlers(auth_app)
    alice_screen = handlers.open(rationales[0].id)
    bob_screen = handlers.open(rationales[0].id)
    bob_table = _edited(bob_screen, 0, "text", "One box holds 5 pens.")
    handlers.save(bob_screen.current, bob_table, "10", "bob's edit", as_user("bob"))
    alice_table = _edited(alice_screen, 1, "text", "2 boxes * 5 pens = 10 pens.")
    conflict = handlers.save(alice_screen.current, alice_table, "10", "", as_user("alice"))
    assert conflict.steps == gr.skip() and conflict.final_answer == gr.skip()  # her text stays in the editor
    assert conflict.conflict == gr.update(visible=True)
    assert "bob saved an edit" in conflict.conflict_message
    assert conflict.conflict_theirs.loc[0, "text"] == "One box holds 5 pens."
    assert len(_revisions(session, rationales[0].id or 0)) == 2  # nothing of hers was written
    kept = handlers.keep_mine(conflict.current, alice_table, "10", "", as_user("alice"))
    revisions = _revisions(session, rationales[0].id or 0)
    assert [r.author_id for r in revisions[1:]] == [users["bob"].id, users["alice"].id]
    assert kept.steps.loc[1, "text"] == "2 boxes * 5 pens = 10 pens."


@pytest.mark.parametrize("who", ["victor", None, "nobody"])
def test_writes_are_refused_without_the_annotator_role(
    auth_app: AppContext,
    users: dict[str, User],
    rationales: list[Rationale],
    session: Session,
    who: str | None,
) -> None:
    handlers = AnnotateHandlers(auth_app)
    screen = handlers.open(rationales[0].id)
    table = _edited(screen, 0, "text", "vandalised")
    with pytest.raises(gr.Error):
        handlers.save(screen.current, table, "1", "", as_user(who))
    with pytest.raises(gr.Error):
        handlers.accept(
            {}, screen.current, table, "1", _labels([1]), [], "", False, "unreviewed", False, as_user(who)
        )
    with pytest.raises(gr.Error):
        HistoryHandlers(auth_app).revert(screen.current, 1, as_user(who))
    session.expire_all()
    rationale = session.get(Rationale, rationales[0].id)
    assert rationale is not None and rationale.version == 1 and rationale.review_status == "unreviewed"
    assert session.exec(select(Review)).first() is None


def test_history_diff_and_revert(app: AppContext, rationales: list[Rationale], session: Session) -> None:
    handlers, history = AnnotateHandlers(app), HistoryHandlers(app)
    screen = handlers.open(rationales[0].id)
    saved = handlers.save(
        screen.current, _edited(screen, 0, "text", "Every box has 5 pens."), "10", "", as_user(None)
    )
    diff = history.compare(saved.current, 1, 2)
    assert ("Every", "+") in diff and ("Each", "-") in diff
    row = saved.revisions["value"].values.tolist()[1]  # revision 2's row, clicked
    compare_to, revert_to, clicked = history.pick_revision(
        saved.current, 1, gr.SelectData(None, {"index": [1, 0], "value": row[0], "row_value": row})
    )
    assert compare_to["value"] == revert_to["value"] == 2 and clicked == diff
    reverted = history.revert(saved.current, 1, as_user(None))
    assert reverted.steps.loc[0, "text"] == "Each box has 5 pens."
    assert [r.reverted_from for r in _revisions(session, rationales[0].id or 0)] == [None, None, 1]


def test_bulk_review_needs_admin_and_a_confirmation(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session
) -> None:
    bulk = BulkHandlers(auth_app)
    with pytest.raises(gr.Error):
        bulk.preview({"verdict": "wrong"}, "reject", as_user("alice"))
    pending, message, box = bulk.preview({"verdict": "wrong"}, "reject", as_user("admin"))
    assert pending is not None and pending["count"] == 6 and "6 rationales" in message and box["visible"]
    assert session.exec(select(Review)).first() is None  # nothing happens before the confirmation
    with pytest.raises(gr.Error):
        bulk.confirm(pending, as_user("alice"))
    _, done, _ = bulk.confirm(pending, as_user("admin"))
    assert "6 rationales" in done
    statuses = session.exec(select(Rationale.review_status).where(Rationale.verdict == "wrong")).all()
    assert set(statuses) == {"rejected"}


def test_the_screen_shows_untrusted_text_only_in_plain_components(
    app: AppContext, rationales: list[Rationale]
) -> None:
    screen = AnnotateHandlers(app).open(rationales[6].id)  # the XSS problem
    assert screen.question.startswith("<script>")  # a Textbox value: shown as typed, never parsed
    assert "<script>" not in screen.info and "<" not in screen.info
    assert "<script>" not in screen.panel  # the rating panel is HTML: every stored text in it is escaped


def test_annotation_api_helpers_stay_in_sync(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    view = annotation.get_rationale_view(session, rationale_id=rationales[0].id or 0)
    screen = AnnotateHandlers(app).open(rationales[0].id)
    assert {k: screen.current[k] for k in ("rationale_id", "version")} == {
        "rationale_id": rationales[0].id,
        "version": view.version,
    }
    assert abs(screen.current["opened_at"] - time.time()) < 60


def test_step_text_answers_and_comments_over_the_limits_are_refused_and_nothing_is_stored(
    app: AppContext, rationales: list[Rationale], session: Session
) -> None:
    """Issue 26: an annotator could save a 12 KB step (then every viewer's compare took 8 s)."""
    handlers = AnnotateHandlers(app)
    screen = handlers.open(rationales[0].id)
    steps, user = screen.steps, as_user(None)
    long_step = _edited(screen, 0, "text", "x " * 6_000)
    long_question = _edited(screen, 1, "sub_question", "why? " * 1_000)
    too_many = pd.DataFrame([["q", "a"]] * (MAX_STEPS + 1), columns=["sub_question", "text"])
    saves = [
        ((long_step, "10", ""), "the text of step 1 is too long: 11,999 characters, at most 4,000"),
        ((long_question, "10", ""), "the sub_question of step 2 is too long"),
        ((too_many, "10", ""), "too many steps: 65"),
        ((steps, "1" * 3_000, ""), "the final answer is too long"),
        ((steps, "9", "c" * 5_000), "the comment is too long"),
    ]
    for (table, answer, comment), message in saves:
        with pytest.raises(gr.Error, match=message):
            handlers.save(screen.current, table, answer, comment, user)
    review = (_labels([]), [], "\x00", False, "unreviewed", False)  # labels, tags, comment, options
    with pytest.raises(gr.Error, match="the comment may not contain the NUL"):
        handlers.reject({}, screen.current, steps, "10", *review, user)
    with pytest.raises(gr.Error, match="the text of step 1 is too long"):
        handlers.accept(
            {}, screen.current, long_step, "10", _labels([]), [], "", False, "unreviewed", False, user
        )
    assert len(_revisions(session, rationales[0].id or 0)) == 1
    assert session.exec(select(Review)).all() == []
