import pytest
from sqlmodel import Session, func, select

from backend.access.auth import PermissionDenied
from backend.annotation import (
    StaleEdit,
    get_rationale_view,
    list_revisions,
    revert,
    revision_diff,
    save_edit,
)
from backend.student_formats import StepText
from db.models import Rationale, Revision, Step, User

NEW_STEPS = [StepText("How many pens in total?", "3 * 5 = 15 pens."), StepText(None, "15 - 1 = 14 pens.")]


def test_save_replaces_steps_and_records_a_revision(
    session: Session, rationale: Rationale, users: dict[str, User]
):
    assert rationale.id is not None
    view = save_edit(
        session,
        rationale_id=rationale.id,
        expected_version=1,
        steps=NEW_STEPS,
        final_answer=" 14 ",
        author=users["alice"],
        comment="fix count",
    )
    assert (view.version, view.revision_number, view.final_answer) == (2, 2, "14")
    assert view.steps == NEW_STEPS
    assert [row.value for row in view.step_rows] == ["15", "14"]  # calculator annotations recomputed
    assert view.rationale.num_steps == 2
    revisions = list_revisions(session, rationale_id=rationale.id)
    assert [(r.number, r.author_id, r.version) for r in revisions] == [
        (1, None, None),
        (2, users["alice"].id, 2),
    ]
    assert revisions[1].content["final_answer"] == "14" and revisions[1].comment == "fix count"
    steps = session.exec(select(Step).where(Step.rationale_id == rationale.id)).all()
    assert sorted(s.position for s in steps) == [0, 1]


def test_stale_save_is_refused_and_shows_the_other_change(
    session: Session, rationale: Rationale, users: dict[str, User]
):
    assert rationale.id is not None
    save_edit(
        session,
        rationale_id=rationale.id,
        expected_version=1,
        steps=NEW_STEPS,
        final_answer="14",
        author=users["alice"],
    )
    mine = [StepText("How many pens in total?", "3 * 5 = 15 pens."), StepText(None, "15 - 3 = 12 pens.")]
    with pytest.raises(StaleEdit) as refused:
        save_edit(
            session,
            rationale_id=rationale.id,
            expected_version=1,
            steps=mine,
            final_answer="12",
            author=users["bob"],
        )
    message = str(refused.value)
    assert "alice saved an edit as revision 2" in message
    assert "you had version 1; it is now version 2" in message
    assert "15 - [-1-] {+3+} = [-14-] {+12+} pens." in message
    assert refused.value.current.version == 2 and refused.value.current.steps == NEW_STEPS
    assert ("12", "+") in [(text.strip(), label) for text, label in refused.value.diff]
    count = session.exec(
        select(func.count()).select_from(Revision).where(Revision.rationale_id == rationale.id)
    )
    assert count.one() == 2  # nothing written by the refused save


def test_revert_adds_a_revision_copying_the_old_one(
    session: Session, rationale: Rationale, users: dict[str, User]
):
    assert rationale.id is not None
    original = get_rationale_view(session, rationale_id=rationale.id)
    save_edit(
        session,
        rationale_id=rationale.id,
        expected_version=1,
        steps=NEW_STEPS,
        final_answer="14",
        author=users["alice"],
    )
    view = revert(session, rationale_id=rationale.id, to_number=1, expected_version=2, author=users["bob"])
    assert view.revision_number == 3 and view.steps == original.steps and view.final_answer == "13"
    last = list_revisions(session, rationale_id=rationale.id)[-1]
    assert (last.reverted_from, last.author_id) == (1, users["bob"].id)
    assert all(
        label is None for _, label in revision_diff(session, rationale_id=rationale.id, before=1, after=3)
    )
    with pytest.raises(LookupError, match="no revision 9"):
        revert(session, rationale_id=rationale.id, to_number=9, expected_version=3, author=users["bob"])


def test_viewer_cannot_edit_or_revert(session: Session, rationale: Rationale, users: dict[str, User]):
    assert rationale.id is not None
    with pytest.raises(PermissionDenied, match="annotator role"):
        save_edit(
            session,
            rationale_id=rationale.id,
            expected_version=1,
            steps=NEW_STEPS,
            final_answer="1",
            author=users["viewer"],
        )
    with pytest.raises(PermissionDenied):
        revert(session, rationale_id=rationale.id, to_number=1, expected_version=1, author=users["viewer"])
    assert get_rationale_view(session, rationale_id=rationale.id).version == 1


@pytest.mark.parametrize(
    ("steps", "answer", "error"),
    [
        ([], "1", "at least one step"),
        ([StepText("  ", "   ")], "1", "at least one step"),
        ([StepText("What is left?", " ")], "1", "step 1 has a sub-question but no answer"),
        ([StepText(None, "ok")], "9" * 501, "at most 500"),
    ],
)
def test_bad_content_is_refused_with_a_clear_error(
    session: Session,
    rationale: Rationale,
    users: dict[str, User],
    steps: list[StepText],
    answer: str,
    error: str,
):
    assert rationale.id is not None
    with pytest.raises(ValueError, match=error):
        save_edit(
            session,
            rationale_id=rationale.id,
            expected_version=1,
            steps=steps,
            final_answer=answer,
            author=users["alice"],
        )
    assert get_rationale_view(session, rationale_id=rationale.id).version == 1


def test_empty_steps_are_dropped(session: Session, rationale: Rationale, users: dict[str, User]):
    assert rationale.id is not None
    view = save_edit(
        session,
        rationale_id=rationale.id,
        expected_version=1,
        steps=[StepText(None, " a "), StepText("", ""), StepText(" q ", "b")],
        final_answer="",
        author=users["alice"],
    )
    assert view.steps == [StepText(None, "a"), StepText("q", "b")] and view.final_answer is None


def test_unknown_rationale_is_a_lookup_error(session: Session, users: dict[str, User]):
    with pytest.raises(LookupError, match="no rationale with id 999"):
        save_edit(
            session,
            rationale_id=999,
            expected_version=1,
            steps=NEW_STEPS,
            final_answer="1",
            author=users["alice"],
        )
    with pytest.raises(LookupError):
        get_rationale_view(session, rationale_id=999)
