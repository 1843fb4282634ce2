import pytest
from sqlmodel import Session

from backend.annotation import assign_rationales, next_in_queue, previous_in_queue, review_rationale
from backend.queries.filters import RationaleFilter
from db.models import Rationale, User


def _walk(session: Session, user: User, flt: RationaleFilter | None, mode: str) -> list[int]:
    seen, current = [], None
    while current := next_in_queue(session, user=user, rationale_filter=flt, after_id=current, mode=mode):
        seen.append(current)
    return seen


def test_unreviewed_queue_skips_reviewed_and_walks_both_ways(
    session: Session, many: list[Rationale], users: dict[str, User]
):
    ids = [r.id for r in many]
    assert ids[1] is not None
    review_rationale(
        session, rationale_id=ids[1], expected_version=1, verdict="accept", reviewer=users["bob"]
    )
    alice = users["alice"]
    forward = _walk(session, alice, None, "unreviewed")
    assert forward == [i for i in ids if i != ids[1]]
    assert previous_in_queue(session, user=alice, rationale_filter=None, before_id=ids[2]) == ids[0]
    assert previous_in_queue(session, user=alice, rationale_filter=None) == ids[-1]
    assert previous_in_queue(session, user=alice, rationale_filter=None, before_id=ids[0]) is None
    assert ids[1] in _walk(session, alice, None, "filter")


def test_filter_and_assigned_modes(session: Session, many: list[Rationale], users: dict[str, User]):
    wrong = [r.id for r in many if r.verdict == "wrong"]
    first_set = RationaleFilter(dataset_id=many[0].dataset_id, verdict="wrong")
    assert _walk(session, users["alice"], first_set, "filter") == wrong[:3]
    assert _walk(session, users["alice"], None, "assigned") == []
    assign_rationales(session, rationale_ids=wrong[2:4], assignee=users["alice"], by=users["admin"])  # type: ignore[arg-type]
    assert _walk(session, users["alice"], None, "assigned") == wrong[2:4]
    assert _walk(session, users["bob"], None, "assigned") == []


def test_unknown_mode_is_refused(session: Session, users: dict[str, User]):
    with pytest.raises(ValueError, match="queue mode must be one of"):
        next_in_queue(session, user=users["alice"], rationale_filter=None, mode="random")
