import pytest
from sqlmodel import Session, select

from backend.access.auth import create_user
from backend.annotation import save_edit
from backend.queries.filters import RationaleFilter
from backend.rationales import RationaleDraft, add_rationale
from backend.sets import curation
from backend.student_formats import StepText
from db.models import CuratedSet, RationaleSource, Role, Verdict
from tests.factories import make_dataset, make_problem, make_rationale


@pytest.fixture
def ids(session: Session) -> list[int]:
    dataset = make_dataset(session)
    out = []
    for p in range(3):
        problem = make_problem(session, dataset, external_id=f"p{p}", question=f"Question {p}?")
        for verdict in (Verdict.correct, Verdict.wrong):
            draft = RationaleDraft(
                steps=[StepText(f"q{p}", f"step of {p}")],
                final_answer=str(p),
                verdict=verdict,
                sample_index=len(out),
            )
            rationale = add_rationale(session, problem=problem, draft=draft, source=RationaleSource.teacher)
            session.flush()
            assert rationale.id is not None
            out.append(rationale.id)
    session.commit()
    return out


def test_create_from_filter_and_picks_then_add_and_remove(session: Session, ids: list[int]):
    correct = RationaleFilter(verdict="correct")
    curated = curation.create_set(session, name=" first ", rationale_filter=correct, picks=[ids[1]])
    assert curated.name == "first" and curated.filter == {
        "verdict": "correct",
        "include_duplicates": True,
        "picks": [ids[1]],
    }
    assert curation.set_size(session, set_id=curated.id) == 4  # type: ignore[arg-type]
    assert curation.add_items(session, set_id=curated.id, picks=[ids[1], ids[3]]) == 1  # type: ignore[arg-type]
    assert curation.add_items(session, set_id=curated.id, rationale_filter=RationaleFilter()) == 1  # type: ignore[arg-type]
    assert curation.remove_items(session, set_id=curated.id, rationale_ids=[ids[0], 999]) == 1  # type: ignore[arg-type]
    assert curation.set_size(session, set_id=curated.id) == 5  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no rationale with id 999"):
        curation.add_items(session, set_id=curated.id, picks=[999])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already exists"):
        curation.create_set(session, name="first")


def test_freeze_pins_current_revisions_and_never_changes(session: Session, ids: list[int]):
    ann = create_user(session, username="ann", role=Role.annotator)
    save_edit(
        session,
        rationale_id=ids[0],
        expected_version=1,
        steps=[StepText(None, "edited once")],
        final_answer="7",
        author=ann,
    )
    curated = curation.create_set(session, name="s", picks=ids[:2])
    assert curated.id is not None
    frozen = curation.freeze(session, set_id=curated.id)
    assert frozen.frozen_at is not None
    save_edit(
        session,
        rationale_id=ids[0],
        expected_version=2,
        steps=[StepText(None, "edited after freeze")],
        final_answer="8",
        author=ann,
    )
    records = curation.frozen_records(session, set_id=curated.id)
    assert [(r.rationale_id, r.revision_number) for r in records] == [(ids[0], 2), (ids[1], 1)]
    assert records[0].steps == [StepText(None, "edited once")] and records[0].final_answer == "7"
    for change in (
        lambda: curation.freeze(session, set_id=curated.id),  # type: ignore[arg-type]
        lambda: curation.add_items(session, set_id=curated.id, picks=[ids[2]]),  # type: ignore[arg-type]
        lambda: curation.remove_items(session, set_id=curated.id, rationale_ids=ids),
    ):  # type: ignore[arg-type]
        with pytest.raises(curation.SetFrozen):
            change()
    assert curation.set_size(session, set_id=curated.id) == 2


def test_freeze_refuses_empty_sets_and_rationales_without_revisions(session: Session, ids: list[int]):
    empty = curation.create_set(session, name="empty")
    with pytest.raises(ValueError, match="is empty"):
        curation.freeze(session, set_id=empty.id)  # type: ignore[arg-type]
    problem = make_problem(session, make_dataset(session, name="other"))
    bare = make_rationale(session, problem)  # a factory row without revision 1
    curated = curation.create_set(session, name="bare", picks=[ids[0], bare.id])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="no stored revision"):
        curation.freeze(session, set_id=curated.id)  # type: ignore[arg-type]
    assert curation.get_set(session, set_id=curated.id).frozen_at is None  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not frozen"):
        curation.frozen_records(session, set_id=curated.id)  # type: ignore[arg-type]


def test_set_names_are_unique_ignoring_case(session: Session, ids: list[int]):
    curation.create_set(session, name="Set1", picks=[ids[0]])
    for other in ("SET1", "set1", " sEt1 "):
        with pytest.raises(ValueError, match="a curated set named 'Set1' already exists"):
            curation.create_set(session, name=other, picks=[ids[0]])
    assert curation.create_set(session, name="Set2", picks=[ids[0]]).name == "Set2"


@pytest.mark.parametrize(
    ("name", "description", "message"),
    [
        ("n" * 101, "", "the set name is too long: 101 characters, at most 100"),
        ("ok", "d" * 2_001, "the set description is too long"),
        ("evil\x00", "", "NUL"),
        ("invoice\u202etxt.exe", "", "U\\+202E"),
        ("ok", "hidden \u2066text", "U\\+2066"),
    ],
)
def test_set_names_and_descriptions_are_checked(
    session: Session, ids: list[int], name: str, description: str, message: str
):
    with pytest.raises(ValueError, match=message):
        curation.create_set(session, name=name, description=description, picks=[ids[0]])
    assert session.exec(select(CuratedSet)).all() == []
