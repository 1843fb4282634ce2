"""The annotation and Explore backend on each database the app supports: the same calls, the same answers
(set-based bulk review with typed literals, RETURNING, GROUP BY aggregates, question search)."""

from sqlmodel import Session, col, select

from backend.access.auth import create_user
from backend.annotation import (
    bulk_review,
    get_rationale_view,
    list_revisions,
    next_in_queue,
    revert,
    review_rationale,
    save_edit,
)
from backend.queries import explore
from backend.queries.filters import RationaleFilter
from backend.rationales import RationaleDraft, add_rationale
from backend.sets import curation
from backend.student_formats import StepText
from db.engine import make_engine
from db.models import RationaleSource, Review, Role, Verdict
from db.search_index import ensure_question_search
from tests.factories import make_dataset, make_problem


def test_annotation_and_explore_work_the_same(db_url: str):
    engine = make_engine(db_url)
    assert ensure_question_search(engine)
    with Session(engine) as session:
        ann = create_user(session, username="ann", role=Role.annotator)
        ben = create_user(session, username="ben", role=Role.annotator)
        admin = create_user(session, username="root", role=Role.admin)
        dataset = make_dataset(session)
        ids = []
        for p in range(4):
            problem = make_problem(
                session,
                dataset,
                external_id=f"p{p}",
                question=f"Marbles puzzle {p}",
                split="train" if p % 2 else "test",
            )
            draft = RationaleDraft(
                steps=[StepText("How many?", f"{p} + 1 = {p + 1}")],
                final_answer=str(p + 1),
                verdict=Verdict.correct if p % 2 else Verdict.wrong,
            )
            ids.append(
                add_rationale(session, problem=problem, draft=draft, source=RationaleSource.teacher).id
            )
        session.commit()
        first = ids[0]
        assert first is not None
        view = save_edit(
            session,
            rationale_id=first,
            expected_version=1,
            steps=[StepText(None, "edited")],
            final_answer="9",
            author=ann,
        )
        assert (view.version, view.revision_number) == (2, 2)
        review_rationale(session, rationale_id=first, expected_version=2, verdict="accept", reviewer=ann)
        review_rationale(session, rationale_id=first, expected_version=2, verdict="accept", reviewer=ben)
        view = revert(session, rationale_id=first, to_number=1, expected_version=4, author=ben)
        assert [r.number for r in list_revisions(session, rationale_id=first)] == [1, 2, 3]
        assert get_rationale_view(session, rationale_id=first).final_answer == "1"
        assert (
            bulk_review(
                session, rationale_filter=RationaleFilter(verdict="wrong"), verdict="reject", reviewer=admin
            )
            == 2
        )
        bulk = session.exec(
            select(Review).where(Review.comment == "bulk reject").order_by(col(Review.id))
        ).all()
        assert [(r.verdict, r.step_ratings, r.error_tags) for r in bulk] == [("reject", [], [])] * 2
        assert next_in_queue(session, user=ann, rationale_filter=None) == ids[1]

        rows, total = explore.page_rationales(
            session,
            rationale_filter=RationaleFilter(search="marbles puzzle"),
            sort="num_steps",
            descending=True,
        )
        assert total == 4 and {r["id"] for r in rows} == set(ids)
        rows, total = explore.page_rationales(session, rationale_filter=RationaleFilter(split="test"))
        assert total == 2 and [r["review_status"] for r in rows] == ["rejected", "rejected"]
        assert [r["total"] for r in explore.accuracy_by_run(session)] == [4]
        assert sum(r["count"] for r in explore.review_progress(session)) == 4
        curated = curation.create_set(session, name="s", rationale_filter=RationaleFilter(split="test"))
        assert curation.add_items(session, set_id=curated.id, picks=[ids[1]]) == 1  # type: ignore[arg-type]
        curation.freeze(session, set_id=curated.id)  # type: ignore[arg-type]
        records = curation.frozen_records(session, set_id=curated.id)  # type: ignore[arg-type]
        pinned = [(r.rationale_id, r.revision_number) for r in records]
        assert pinned == [(ids[0], 3), (ids[2], 1), (ids[1], 1)]  # the filter's matches, then the pick
        assert records[0].final_answer == "1" and records[2].steps == [StepText("How many?", "1 + 1 = 2")]
        # ann-ben, and each of them with the admin's bulk reject
        assert explore.annotator_agreement(session)["overall"]["n"] == 3
    engine.dispose()
