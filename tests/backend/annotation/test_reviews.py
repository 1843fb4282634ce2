import pytest
from sqlmodel import Session, col, func, select

from backend.access.auth import PermissionDenied
from backend.annotation import (
    ERROR_TAGS,
    StaleEdit,
    assign_rationales,
    bulk_review,
    get_rationale_view,
    review_rationale,
    save_edit,
)
from backend.annotation import reviews as reviews_module
from backend.queries.filters import RationaleFilter
from backend.student_formats import StepText
from db.models import Rationale, Review, ReviewStatus, User


def test_review_sets_status_and_keeps_every_review(
    session: Session, rationale: Rationale, users: dict[str, User]
):
    assert rationale.id is not None
    first = review_rationale(
        session,
        rationale_id=rationale.id,
        expected_version=1,
        verdict="reject",
        reviewer=users["alice"],
        step_ratings=[0, -1],
        error_tags=["arithmetic", "arithmetic"],
        step_tags=[[], ["arithmetic", "arithmetic"]],
        comment=" off by one ",
        seconds_spent=12.34,
    )
    assert (first.first_wrong_step, first.error_tags, first.comment) == (1, ["arithmetic"], "off by one")
    assert (first.step_ratings, first.step_tags, first.seconds_spent) == ([0, -1], [[], ["arithmetic"]], 12.3)
    # Bob opened it at version 1 too: same content, so his independent review stands (agreement needs both).
    second = review_rationale(
        session, rationale_id=rationale.id, expected_version=1, verdict="accept", reviewer=users["bob"]
    )
    view = get_rationale_view(session, rationale_id=rationale.id)
    assert view.rationale.review_status == ReviewStatus.accepted
    assert view.rationale.last_reviewer_id == users["bob"].id and view.version == 3
    assert [r.id for r in view.reviews] == [first.id, second.id]
    assert {r.revision_number for r in view.reviews} == {1}
    assert view.usernames[users["alice"].id] == "alice"  # type: ignore[index]


def test_review_of_changed_content_is_refused(session: Session, rationale: Rationale, users: dict[str, User]):
    assert rationale.id is not None
    save_edit(
        session,
        rationale_id=rationale.id,
        expected_version=1,
        steps=[StepText(None, "3 * 5 = 15")],
        final_answer="15",
        author=users["alice"],
    )
    with pytest.raises(StaleEdit, match="alice saved an edit as revision 2"):
        review_rationale(
            session, rationale_id=rationale.id, expected_version=1, verdict="accept", reviewer=users["bob"]
        )
    review = review_rationale(
        session, rationale_id=rationale.id, expected_version=2, verdict="accept", reviewer=users["bob"]
    )
    assert review.revision_number == 2


def test_edit_after_a_review_is_refused_naming_the_reviewer(
    session: Session, rationale: Rationale, users: dict[str, User]
):
    assert rationale.id is not None
    review_rationale(
        session, rationale_id=rationale.id, expected_version=1, verdict="flag", reviewer=users["bob"]
    )
    with pytest.raises(StaleEdit, match="bob reviewed revision 1: flag"):
        save_edit(
            session,
            rationale_id=rationale.id,
            expected_version=1,
            steps=[StepText(None, "x")],
            final_answer="1",
            author=users["alice"],
        )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"verdict": "maybe"}, "verdict must be one of"),
        ({"verdict": "reject", "error_tags": ["typo"]}, "unknown error tags"),
        ({"verdict": "reject", "step_ratings": [2]}, "step ratings must be 1, 0, -1"),
        ({"verdict": "reject", "step_ratings": [True]}, "step ratings must be 1, 0, -1"),
        ({"verdict": "reject", "step_ratings": [1, 1, -1]}, "more than the 2 stored steps"),
        ({"verdict": "reject", "step_tags": [["typo"]]}, "unknown step error tags"),
        ({"verdict": "accept", "seconds_spent": -3}, "cannot be negative"),
    ],
)
def test_bad_review_is_refused(session: Session, rationale: Rationale, users: dict[str, User], kwargs, error):
    assert rationale.id is not None
    with pytest.raises(ValueError, match=error):
        review_rationale(
            session, rationale_id=rationale.id, expected_version=1, reviewer=users["alice"], **kwargs
        )
    assert session.exec(select(func.count()).select_from(Review)).one() == 0
    assert get_rationale_view(session, rationale_id=rationale.id).version == 1


def test_viewer_cannot_review_and_annotator_cannot_bulk(
    session: Session, rationale: Rationale, users: dict[str, User]
):
    assert rationale.id is not None
    with pytest.raises(PermissionDenied):
        review_rationale(
            session, rationale_id=rationale.id, expected_version=1, verdict="accept", reviewer=users["viewer"]
        )
    for user in (users["viewer"], users["alice"]):
        with pytest.raises(PermissionDenied, match="admin role"):
            bulk_review(session, rationale_filter=RationaleFilter(), verdict="accept", reviewer=user)
    with pytest.raises(PermissionDenied):
        assign_rationales(session, rationale_ids=[rationale.id], assignee=users["alice"], by=users["bob"])


def test_bulk_review_over_a_filter_in_chunks(
    session: Session, many: list[Rationale], users: dict[str, User], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(reviews_module, "BULK_CHUNK", 2)  # several chunks from six rows
    wrong = RationaleFilter(verdict="wrong")
    assert bulk_review(session, rationale_filter=wrong, verdict="reject", reviewer=users["admin"]) == 6
    rows = session.exec(select(Rationale).order_by(col(Rationale.id))).all()
    for row in rows:
        session.refresh(row)
    rejected = [r.id for r in rows if r.review_status == ReviewStatus.rejected]
    assert rejected == [r.id for r in many if r.verdict == "wrong"]
    assert all(r.version == 2 for r in rows if r.id in rejected)
    reviews = session.exec(select(Review)).all()
    assert sorted(r.rationale_id for r in reviews) == rejected
    assert {(r.verdict, r.reviewer_id, r.revision_number, r.version) for r in reviews} == {
        ("reject", users["admin"].id, 1, 2)
    }
    assert reviews[0].step_ratings == [] and reviews[0].error_tags == [] and reviews[0].step_tags == []


def test_assign_feeds_the_assigned_queue(session: Session, many: list[Rationale], users: dict[str, User]):
    ids = [r.id for r in many[:3] if r.id is not None]
    assert assign_rationales(session, rationale_ids=ids, assignee=users["alice"], by=users["admin"]) == 3
    assert (
        session.exec(select(Rationale.id).where(Rationale.assigned_to_id == users["alice"].id)).all() == ids
    )


@pytest.mark.parametrize(
    ("ratings", "stored", "first"),
    [
        ([1, -1], [1, -1], 1),
        ([-1, -1], [-1, -1], 0),
        ([1, 0], [1, 0], None),
        ([1], [1, None], None),  # unrated steps are padded as None
        ([], [None, None], None),
    ],
)
def test_first_wrong_step_is_the_earliest_minus_one(
    session: Session, rationale: Rationale, users: dict[str, User], ratings, stored, first
):
    assert rationale.id is not None
    review = review_rationale(
        session,
        rationale_id=rationale.id,
        expected_version=1,
        verdict="reject",
        reviewer=users["alice"],
        step_ratings=ratings,
    )
    assert (review.step_ratings, review.first_wrong_step) == (stored, first)


def test_time_spent_is_capped_at_an_idle_limit(
    session: Session, rationale: Rationale, users: dict[str, User]
):
    assert rationale.id is not None
    review = review_rationale(
        session,
        rationale_id=rationale.id,
        expected_version=1,
        verdict="accept",
        reviewer=users["alice"],
        seconds_spent=10 * 3600,
    )
    assert review.seconds_spent == reviews_module.MAX_SECONDS


def test_error_tags_are_unique_kebab_case():
    assert len(set(ERROR_TAGS)) == len(ERROR_TAGS)
    assert all(tag == tag.lower() and " " not in tag for tag in ERROR_TAGS)


def test_a_rationale_stored_without_revisions_can_be_reviewed_and_edited(
    session: Session, users: dict[str, User]
):
    from tests.factories import make_dataset, make_problem, make_rationale

    bare = make_rationale(session, make_problem(session, make_dataset(session, name="bare")))
    assert bare.id is not None and bare.current_revision == 0
    review = review_rationale(
        session, rationale_id=bare.id, expected_version=1, verdict="accept", reviewer=users["alice"]
    )
    assert review.revision_number == 0
    view = save_edit(
        session,
        rationale_id=bare.id,
        expected_version=2,
        steps=[StepText(None, "now stored")],
        final_answer="1",
        author=users["bob"],
    )
    assert view.revision_number == 1
