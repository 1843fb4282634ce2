import pytest
from sqlmodel import Session, select

from backend.queries.filters import ProblemFilter, RationaleFilter
from db.models import Rationale, Verdict
from tests.factories import make_dataset, make_problem, make_rationale


def _ids(session: Session, rationale_filter: RationaleFilter) -> list[int]:
    return list(session.exec(rationale_filter.apply(select(Rationale.id))).all())  # type: ignore[arg-type]


def test_rationale_filter_combines_conditions(session):
    dataset = make_dataset(session)
    apples = make_problem(session, dataset, external_id="a", question="How many apples?", split="train")
    pens = make_problem(session, dataset, external_id="b", question="How many pens?")
    good = make_rationale(session, apples)
    bad = make_rationale(session, pens, verdict=Verdict.wrong, steps=[("a?", "1"), ("b?", "2")])
    assert _ids(session, RationaleFilter(verdict="wrong")) == [bad.id]
    assert _ids(session, RationaleFilter(split="train")) == [good.id]
    assert _ids(session, RationaleFilter(search="pens", min_steps=2)) == [bad.id]
    assert _ids(session, RationaleFilter(max_steps=1, dataset_id=dataset.id)) == [good.id]


def test_filters_round_trip_through_json_and_reject_unknown_fields():
    rationale_filter = RationaleFilter(verdict="correct", min_steps=2)
    assert RationaleFilter.from_json(rationale_filter.to_json()) == rationale_filter
    with pytest.raises(ValueError, match="unknown filter fields"):
        RationaleFilter.from_json({"verdcit": "correct"})
    assert ProblemFilter.from_json(ProblemFilter(split="test", limit=5).to_json()) == ProblemFilter(
        split="test", limit=5
    )


def test_problem_filter_is_stable_under_limit_and_offset(session):
    dataset = make_dataset(session)
    ids = [make_problem(session, dataset, external_id=str(i)).id for i in range(5)]
    page = session.exec(ProblemFilter(dataset_id=dataset.id, limit=2, offset=1).query()).all()
    assert [p.id for p in page] == ids[1:3]


def test_search_matches_percent_and_underscore_literally(session):
    dataset = make_dataset(session)
    questions = {
        "pct": "A 50% discount",
        "near": "A 500 discount",
        "under": "Use a_b here",
        "plain": "Use axb",
    }
    rationales = {
        key: make_rationale(session, make_problem(session, dataset, external_id=key, question=question))
        for key, question in questions.items()
    }
    assert _ids(session, RationaleFilter(search="50%")) == [rationales["pct"].id]
    assert _ids(session, RationaleFilter(search="a_b")) == [rationales["under"].id]
    assert _ids(session, RationaleFilter(search="%")) == [rationales["pct"].id]
    found = session.exec(ProblemFilter(search="_").query()).all()
    assert [problem.question for problem in found] == ["Use a_b here"]


@pytest.mark.parametrize("filter_class", [RationaleFilter, ProblemFilter])
def test_a_nul_or_an_overlong_search_is_refused_with_a_clear_message(filter_class):
    with pytest.raises(ValueError, match="NUL"):
        filter_class(search="pens\x00")
    with pytest.raises(ValueError, match="the search text is too long: 50,000 characters"):
        filter_class(search="x" * 50_000)
    with pytest.raises(ValueError, match="the split is too long"):
        filter_class.from_json({"split": "s" * 50_000})
