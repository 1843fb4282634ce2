import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.access.auth import create_user
from backend.annotation import review_rationale
from backend.queries import explore
from backend.queries.filters import RationaleFilter
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from db.models import Dataset, Problem, RationaleSource, Role, User, Verdict
from db.search_index import ensure_question_search, has_question_search, pending
from tests.factories import make_dataset, make_problem, make_run


def _store(
    session: Session, problem: Problem, *, run_id: int | None, sample: int, verdict: Verdict, steps: int
):
    draft = RationaleDraft(
        steps=[StepText(None, f"step {i}") for i in range(steps)],
        final_answer="1",
        verdict=verdict,
        sample_index=sample,
    )
    source = RationaleSource.teacher if run_id else RationaleSource.reference
    return add_rationale(session, problem=problem, draft=draft, source=source, run_id=run_id)


@pytest.fixture
def table(session: Session) -> dict[str, int]:
    """Two datasets; dataset "alpha" has one run with 4 samples x 3 problems, "beta" one reference each."""
    alpha, beta = make_dataset(session, name="alpha"), make_dataset(session, name="beta")
    run = make_run(session, alpha, name="t-run")
    verdicts = [Verdict.correct, Verdict.wrong, Verdict.correct, Verdict.unparseable]
    for p in range(3):
        problem = make_problem(
            session, alpha, external_id=f"a{p}", question=f"Alpha question {p} " + "x" * 300
        )
        for sample, verdict in enumerate(verdicts):
            _store(session, problem, run_id=run.id, sample=sample, verdict=verdict, steps=sample + 1)
    problem = make_problem(
        session, beta, external_id="b0", question="Beta <b>bold</b> question", split="train"
    )
    _store(session, problem, run_id=None, sample=0, verdict=Verdict.correct, steps=2)
    session.commit()
    assert alpha.id and beta.id and run.id
    return {"alpha": alpha.id, "beta": beta.id, "run": run.id}


def test_page_rows_and_total(session: Session, table: dict[str, int]):
    rows, total = explore.page_rationales(session, rationale_filter=RationaleFilter(), page_size=5)
    assert total == 13 and [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    first = rows[0]
    assert set(first) == {
        "id",
        "dataset",
        "split",
        "run",
        "question",
        "final_answer",
        "gold",
        "verdict",
        "review_status",
        "annotator",
        "num_steps",
    }
    assert (first["dataset"], first["run"], first["verdict"], first["review_status"]) == (
        "alpha",
        "t-run",
        "correct",
        "unreviewed",
    )
    assert first["question"].endswith("...") and len(first["question"]) == explore.QUESTION_CHARS + 3
    last, _ = explore.page_rationales(session, rationale_filter=RationaleFilter(), page=2, page_size=5)
    assert [r["id"] for r in last] == list(range(11, 14))
    beta = last[-1]
    assert beta["question"] == "Beta <b>bold</b> question" and beta["run"] == "(reference)"


def test_filter_sort_and_page(session: Session, table: dict[str, int]):
    flt = RationaleFilter(dataset_id=table["alpha"], verdict="correct")
    rows, total = explore.page_rationales(session, rationale_filter=flt, sort="num_steps", descending=True)
    assert total == 6 and [r["num_steps"] for r in rows] == [3, 3, 3, 1, 1, 1]
    assert [r["id"] for r in rows[:3]] == [11, 7, 3]  # ties broken by id, in the same direction
    rows, _ = explore.page_rationales(
        session, rationale_filter=RationaleFilter(), sort="num_steps", page_size=7
    )
    assert [r["id"] for r in rows] == [1, 5, 9, 13, 2, 6, 10]  # equal steps: by verdict (correct < wrong), id
    rows, _ = explore.page_rationales(
        session, rationale_filter=RationaleFilter(), sort="verdict", page_size=5
    )
    assert [(r["verdict"], r["num_steps"]) for r in rows] == [("correct", 1)] * 3 + [
        ("correct", 2),
        ("correct", 3),
    ]
    rows, total = explore.page_rationales(session, rationale_filter=RationaleFilter(search="Beta"))
    assert total == 1 and rows[0]["dataset"] == "beta"
    rows, total = explore.page_rationales(session, rationale_filter=RationaleFilter(split="train"))
    assert total == 1
    with pytest.raises(ValueError, match="sort must be one of"):
        explore.page_rationales(session, rationale_filter=flt, sort="question; DROP TABLE")
    with pytest.raises(ValueError, match="page size"):
        explore.page_rationales(session, rationale_filter=flt, page_size=10_000)


def test_count_is_capped(session: Session, table: dict[str, int]):
    assert explore.count_matching(session, rationale_filter=RationaleFilter(), cap=10) == 11
    assert explore.format_total(11, cap=10) == "10+" and explore.format_total(1234) == "1,234"


def test_accuracy_histogram_and_progress(session: Session, table: dict[str, int]):
    accuracy = explore.accuracy_by_run(session)
    assert [
        (r["dataset"], r["run"], r["total"], r["correct"], r["wrong"], r["unparseable"]) for r in accuracy
    ] == [("alpha", "t-run", 12, 6, 3, 3), ("beta", "(none)", 1, 1, 0, 0)]
    assert accuracy[0]["accuracy"] == pytest.approx(0.5)
    histogram = explore.step_count_histogram(
        session, rationale_filter=RationaleFilter(dataset_id=table["alpha"])
    )
    assert histogram == [
        {"num_steps": n, "verdict": v, "count": 3}
        for n, v in [(1, "correct"), (2, "wrong"), (3, "correct"), (4, "unparseable")]
    ]
    progress = explore.review_progress(session)
    assert progress == [
        {"dataset": "alpha", "review_status": "unreviewed", "count": 12},
        {"dataset": "beta", "review_status": "unreviewed", "count": 1},
    ]


def _reviewers(session: Session) -> list[User]:
    return [create_user(session, username=name, role=Role.annotator) for name in ("ann", "ben", "cat")]


def test_agreement_pairs_percent_and_kappa(session: Session, table: dict[str, int]):
    ann, ben, cat = _reviewers(session)
    plan = {1: ("accept", "accept"), 2: ("reject", "reject"), 3: ("accept", "reject"), 4: ("flag", "flag")}
    for rid, (first, second) in plan.items():
        review_rationale(session, rationale_id=rid, expected_version=1, verdict=first, reviewer=ann)
        review_rationale(session, rationale_id=rid, expected_version=1, verdict=second, reviewer=ben)
    # A re-review replaces the reviewer's earlier verdict; a lone review makes no pair.
    review_rationale(session, rationale_id=3, expected_version=3, verdict="reject", reviewer=ann)
    review_rationale(session, rationale_id=5, expected_version=1, verdict="accept", reviewer=cat)
    agreement = explore.annotator_agreement(session)
    assert len(agreement["pairs"]) == 1
    pair = agreement["pairs"][0]
    assert (pair["annotator_a"], pair["annotator_b"], pair["n"], pair["percent_agreement"]) == (
        "ann",
        "ben",
        4,
        100,
    )
    assert pair["kappa"] == pytest.approx(1.0)


def test_cohen_kappa_reference_values():
    # Two raters, 50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa 0.4 (the textbook example).
    matrix = {("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15}
    assert explore.cohen_kappa(matrix) == pytest.approx(0.4)
    assert explore.cohen_kappa({}) is None
    assert explore.cohen_kappa({("a", "a"): 3}) is None  # chance agreement is 1: kappa undefined


def test_search_through_the_trigram_index_finds_the_same_rows(
    engine: Engine, session: Session, table: dict[str, int]
):
    def found(text: str) -> list[int]:
        rows, _ = explore.page_rationales(session, rationale_filter=RationaleFilter(search=text))
        return [row["id"] for row in rows]

    # Phrase queries (3+ characters), LIKE for shorter text or text with LIKE wildcards.
    scanned = {text: found(text) for text in ("question 1", "BOLD", "<b>", "a", "Alpha%2", 'say "hi"')}
    assert ensure_question_search(engine) and has_question_search(session.connection())
    assert {text: found(text) for text in scanned} == scanned
    assert scanned["BOLD"] == [13]  # case-insensitive, like LIKE
    beta = session.get(Dataset, table["beta"])
    assert beta is not None
    zebra = make_problem(session, beta, external_id="b1", question="Zebra count")
    _store(session, zebra, run_id=None, sample=0, verdict=Verdict.correct, steps=1)
    session.commit()
    # A new problem is found at once: scanned while another writer keeps the catch-up from running...
    blocker = engine.raw_connection()
    blocker.cursor().execute("BEGIN IMMEDIATE")
    assert found("zebra") == [14] and pending(session.connection()) == 1
    blocker.rollback()
    blocker.close()
    # ... and indexed by the next search's catch-up.
    assert found("zebra") == [14] and pending(session.connection()) == 0
    # Triggers keep indexed rows right when a question is edited or a problem deleted.
    zebra.question = "Giraffe count"
    session.add(zebra)
    session.commit()
    assert found("zebra") == [] and found("giraffe") == [14]
    session.delete(zebra)
    session.commit()
    assert found("giraffe") == []
    session.connection().exec_driver_sql(
        "INSERT INTO problem_search(problem_search) VALUES ('integrity-check')"
    )


def test_reviews_per_hour_per_annotator(session: Session, table: dict[str, int]):
    ann, ben, _ = _reviewers(session)
    for rid, seconds in ((1, 60.0), (2, 120.0), (3, 180.0)):  # ann: 3 reviews in 6 minutes -> 30 per hour
        review_rationale(
            session,
            rationale_id=rid,
            expected_version=1,
            verdict="accept",
            reviewer=ann,
            seconds_spent=seconds,
        )
    review_rationale(
        session, rationale_id=4, expected_version=1, verdict="flag", reviewer=ben, seconds_spent=36
    )
    review_rationale(session, rationale_id=5, expected_version=1, verdict="flag", reviewer=ben)  # untimed
    rates = {row["annotator"]: row for row in explore.reviews_per_hour(session)}
    assert set(rates) == {"ann", "ben"}
    assert rates["ann"]["reviews"] == 3 and rates["ann"]["per_hour"] == pytest.approx(30.0)
    assert rates["ben"]["reviews"] == 1 and rates["ben"]["per_hour"] == pytest.approx(100.0)


def test_wildcards_are_literal_with_and_without_the_trigram_index(
    engine: Engine, session: Session, table: dict[str, int]
):
    beta = session.get(Dataset, table["beta"])
    assert beta is not None
    for key, question in (
        ("p1", "A 50% discount"),
        ("p2", "A 500 discount"),
        ("p3", "Name a_b"),
        ("p4", "Name axb"),
    ):
        _store(session, make_problem(session, beta, external_id=key, question=question),
               run_id=None, sample=0, verdict=Verdict.correct, steps=1)  # fmt: skip
    session.commit()

    def found(text: str) -> list[str]:
        rows, _ = explore.page_rationales(session, rationale_filter=RationaleFilter(search=text))
        return sorted(row["question"] for row in rows)

    searches = ("%", "0%", "50% d", "_", "a_b", "Name a_")
    scanned = {text: found(text) for text in searches}
    assert scanned["50% d"] == scanned["%"] == scanned["0%"] == ["A 50% discount"]
    assert scanned["_"] == scanned["a_b"] == scanned["Name a_"] == ["Name a_b"]
    assert ensure_question_search(engine) and has_question_search(session.connection())
    assert {text: found(text) for text in searches} == scanned
