"""Explore: a paged, sorted, filtered rationale table and the chart aggregates, all as SQL.

A page is found with a narrow id-only query (index-backed), and only those ids are joined to problems,
datasets, runs and users ("deferred join"), so a page of a million-row table reads 50 wide rows.
Aggregates are GROUP BY queries over covering indexes; nothing here loads a table into memory.
"""

from collections import defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, func, literal_column, table
from sqlalchemy import select as sql_select  # more than four columns: SQLModel's select() stops at four
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from backend.queries.filters import RationaleFilter, question_contains
from db.models import Dataset, Problem, Rationale, Review, TeacherRun, User
from db.search_index import SQLITE_TABLE, catch_up, has_question_search, indexed_through, pending

# Each sort's full ORDER BY, ending in id so pages never overlap. Ties in step count are broken by verdict
# and ties in verdict by step count: these are the leading columns of the sort indexes
# (ix_rationale_steps, ix_rationale_verdict, ...), so a page is read in index order with no sort step.
SORTS: dict[str, list[Any]] = {
    "id": [col(Rationale.id)],
    "num_steps": [col(Rationale.num_steps), col(Rationale.verdict), col(Rationale.id)],
    "verdict": [col(Rationale.verdict), col(Rationale.num_steps), col(Rationale.id)],
    "review_status": [col(Rationale.review_status), col(Rationale.id)],
    "created_at": [col(Rationale.created_at), col(Rationale.id)],
}
QUESTION_CHARS = 160  # the table shows the start of each question; the annotation page shows it whole
MAX_PAGE_SIZE = 500
COUNT_CAP = 10_000  # counts above this are reported as "10,000+" (an exact count can cost a full scan)


def _indexed_question_ids(session: Session, search: str) -> Any | None:
    """Ids of the problems whose question contains `search`, from the trigram index plus a LIKE over the
    problems added since its last catch-up (so the answer is always complete); None without an index."""
    connection = session.connection()
    if not has_question_search(connection):
        return None
    if pending(connection):  # index new problems now if the database is free (else they are scanned)
        catch_up(session.get_bind().engine, wait_ms=200)
    condition: ColumnElement[bool]
    if len(search) >= 3:
        # A trigram phrase query: the same case-insensitive substring match (every character literal,
        # % and _ included), several times faster than LIKE through the same index.
        condition = literal_column(SQLITE_TABLE).op("MATCH")('"' + search.replace('"', '""') + '"')
    else:  # shorter than a trigram: LIKE (case-insensitive in SQLite), its wildcards escaped
        condition = literal_column("question").contains(search, autoescape=True)
    search_index = table(SQLITE_TABLE, literal_column("question"))
    indexed = sql_select(literal_column("rowid", Integer)).select_from(search_index).where(condition)
    newer = select(col(Problem.id)).where(
        col(Problem.id) > indexed_through(connection), question_contains(search)
    )
    return indexed.union_all(newer)


def filtered(session: Session, rationale_filter: RationaleFilter, query: Any) -> Any:
    """`rationale_filter.apply(query)`, with the question search answered from the trigram index when the
    database has one (the same rows as the filter's own LIKE, found without scanning every problem)."""
    search = rationale_filter.search
    problem_ids = _indexed_question_ids(session, search) if search else None
    if problem_ids is None:
        return rationale_filter.apply(query)
    query = replace(rationale_filter, search=None).apply(query)
    return query.where(col(Rationale.problem_id).in_(problem_ids))


def _page_ids(
    session: Session,
    rationale_filter: RationaleFilter,
    sort: str,
    descending: bool,
    page: int,
    page_size: int,
) -> list[int]:
    order = [column.desc() for column in SORTS[sort]] if descending else SORTS[sort]
    query = filtered(session, rationale_filter, select(col(Rationale.id)))
    query = query.order_by(*order).offset(page * page_size).limit(page_size)
    return [int(rid) for rid in session.exec(query).all()]  # type: ignore[call-overload]


def _rows_for(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    reviewer = aliased(User)
    query = (
        sql_select(
            col(Rationale.id),
            col(Dataset.name),
            col(Problem.split),
            col(TeacherRun.name),
            func.substr(col(Problem.question), 1, QUESTION_CHARS),
            func.length(col(Problem.question)),
            col(Rationale.final_answer),
            col(Problem.gold_answer),
            col(Rationale.verdict),
            col(Rationale.review_status),
            col(reviewer.username),
            col(Rationale.num_steps),
            col(Rationale.source),
        )
        .join(Problem, col(Problem.id) == Rationale.problem_id)
        .join(Dataset, col(Dataset.id) == Rationale.dataset_id)
        .outerjoin(TeacherRun, col(TeacherRun.id) == Rationale.run_id)
        .outerjoin(reviewer, col(reviewer.id) == Rationale.last_reviewer_id)
        .where(col(Rationale.id).in_(ids))
    )
    by_id = {}
    for row in session.exec(query).all():  # type: ignore[call-overload]
        (
            rid,
            dataset,
            split,
            run,
            question,
            length,
            answer,
            gold,
            verdict,
            status,
            annotator,
            steps,
            source,
        ) = row
        by_id[rid] = {
            "id": rid,
            "dataset": dataset,
            "split": split,
            "run": run or f"({source})",
            "question": question + ("..." if length > QUESTION_CHARS else ""),
            "final_answer": answer,
            "gold": gold,
            "verdict": str(verdict),
            "review_status": str(status),
            "annotator": annotator,
            "num_steps": steps,
        }
    return [by_id[rid] for rid in ids if rid in by_id]


def count_matching(session: Session, *, rationale_filter: RationaleFilter, cap: int = COUNT_CAP) -> int:
    """How many rationales match, counting at most cap + 1 (so "more than cap" stays cheap)."""
    inner = filtered(session, rationale_filter, select(col(Rationale.id))).limit(cap + 1).subquery()
    return int(session.exec(select(func.count()).select_from(inner)).one())


def format_total(total: int, cap: int = COUNT_CAP) -> str:
    """The count for display: "1,234", or "100,000+" when the count stopped at the cap."""
    return f"{cap:,}+" if total > cap else f"{total:,}"


def page_rationales(
    session: Session,
    *,
    rationale_filter: RationaleFilter,
    sort: str = "id",
    descending: bool = False,
    page: int = 0,
    page_size: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """One page of rows (dicts with id, dataset, split, run, question, final_answer, gold, verdict,
    review_status, annotator, num_steps) and the number of matches, counted up to COUNT_CAP + 1 (which
    means "more than the cap": show it with format_total, e.g. "10,000+")."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {sorted(SORTS)}, not {sort!r}")
    if page < 0 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page must be >= 0 and page size between 1 and {MAX_PAGE_SIZE}")
    ids = _page_ids(session, rationale_filter, sort, descending, page, page_size)
    return _rows_for(session, ids), count_matching(session, rationale_filter=rationale_filter)


def _names(session: Session, model: Any) -> dict[int, str]:
    return {row_id: name for row_id, name in session.exec(select(model.id, model.name)).all()}


def accuracy_by_run(session: Session) -> list[dict[str, Any]]:
    """Per dataset and teacher run: how many rationales, how many correct / wrong / unparseable, accuracy
    (correct over checked). Rationales without a run (references, manual) appear as run "(none)"."""
    grouped = session.exec(
        select(Rationale.dataset_id, Rationale.run_id, Rationale.verdict, func.count()).group_by(
            col(Rationale.dataset_id), col(Rationale.run_id), col(Rationale.verdict)
        )
    ).all()
    datasets, runs = _names(session, Dataset), _names(session, TeacherRun)
    table: dict[tuple[int, int | None], dict[str, Any]] = {}
    for dataset_id, run_id, verdict, count in grouped:
        row = table.setdefault(
            (dataset_id, run_id),
            {
                "dataset_id": dataset_id,
                "dataset": datasets.get(dataset_id, "?"),
                "run": runs.get(run_id, "(none)") if run_id else "(none)",
                "run_id": run_id,
                "total": 0,
                "correct": 0,
                "wrong": 0,
                "unparseable": 0,
                "other": 0,
            },
        )
        row["total"] += count
        key = str(verdict) if str(verdict) in ("correct", "wrong", "unparseable") else "other"
        row[key] += count
    for row in table.values():
        checked = row["correct"] + row["wrong"] + row["unparseable"]
        row["accuracy"] = row["correct"] / checked if checked else None
    return sorted(table.values(), key=lambda r: (r["dataset"], r["run"]))


def step_count_histogram(session: Session, *, rationale_filter: RationaleFilter) -> list[dict[str, Any]]:
    """Rows {num_steps, verdict, count} for the rationales the filter matches (a stacked histogram)."""
    # Grouped in ix_rationale_dataset_verdict's column order (dataset, verdict, steps), so SQLite groups
    # while scanning the index instead of sorting a million entries; the datasets are summed here.
    columns = (col(Rationale.dataset_id), col(Rationale.verdict), col(Rationale.num_steps))
    query = filtered(session, rationale_filter, sql_select(*columns, func.count())).group_by(*columns)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for _, verdict, steps, count in session.exec(query).all():
        counts[(steps, str(verdict))] += count
    return [{"num_steps": s, "verdict": v, "count": n} for (s, v), n in sorted(counts.items())]


def review_progress(session: Session) -> list[dict[str, Any]]:
    """Rows {dataset, review_status, count}: how much of each dataset is accepted, rejected, flagged, open."""
    rows = session.exec(
        select(Rationale.dataset_id, Rationale.review_status, func.count()).group_by(
            col(Rationale.dataset_id), col(Rationale.review_status)
        )
    ).all()
    datasets = _names(session, Dataset)
    return [
        {"dataset": datasets.get(dataset_id, "?"), "review_status": str(status), "count": count}
        for dataset_id, status, count in sorted(rows, key=lambda r: (datasets.get(r[0], "?"), str(r[1])))
    ]


def _is_latest(review: Any) -> Any:
    """No later review of the same rationale by the same reviewer (a re-review replaces the earlier one).

    A correlated NOT EXISTS on ix_review_rationale: a GROUP BY max(id) subquery joined to itself made
    SQLite materialise both sides, 60 s on 60,000 reviews, against 0.15 s this way."""
    later = aliased(Review)
    return ~(
        select(later.id)
        .where(
            col(later.rationale_id) == review.rationale_id,
            col(later.reviewer_id) == review.reviewer_id,
            col(later.id) > review.id,
        )
        .exists()
    )


def cohen_kappa(matrix: dict[tuple[str, str], int]) -> float | None:
    """Cohen's kappa from a confusion matrix {(rater_a, rater_b): count}; None when chance agreement is 1."""
    n = sum(matrix.values())
    if n == 0:
        return None
    observed = sum(count for (a, b), count in matrix.items() if a == b) / n
    a_marginal: dict[str, int] = defaultdict(int)
    b_marginal: dict[str, int] = defaultdict(int)
    for (a, b), count in matrix.items():
        a_marginal[a] += count
        b_marginal[b] += count
    expected = sum(a_marginal[k] * b_marginal.get(k, 0) for k in a_marginal) / (n * n)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def annotator_agreement(session: Session) -> dict[str, Any]:
    """Agreement between annotators who reviewed the same rationale: per pair of annotators and overall,
    the number of shared rationales, percent agreement and Cohen's kappa on the verdicts."""
    mine, theirs = aliased(Review), aliased(Review)
    pair = (col(mine.reviewer_id), col(theirs.reviewer_id), col(mine.verdict), col(theirs.verdict))
    rows = session.exec(  # type: ignore[call-overload]
        sql_select(*pair, func.count())
        .join(
            theirs,
            and_(
                col(mine.rationale_id) == theirs.rationale_id, col(mine.reviewer_id) < col(theirs.reviewer_id)
            ),
        )
        .where(_is_latest(mine), _is_latest(theirs))
        .group_by(*pair)
    ).all()
    names = {uid: name for uid, name in session.exec(select(User.id, User.username)).all()}
    pairs: dict[tuple[int, int], dict[tuple[str, str], int]] = defaultdict(dict)
    overall: dict[tuple[str, str], int] = defaultdict(int)
    for a, b, verdict_a, verdict_b, count in rows:
        pairs[(a, b)][(str(verdict_a), str(verdict_b))] = count
        overall[(str(verdict_a), str(verdict_b))] += count
    return {
        "pairs": [_agreement(m, names.get(a, "?"), names.get(b, "?")) for (a, b), m in sorted(pairs.items())],
        "overall": _agreement(overall, "all", "all"),
    }


def _agreement(matrix: dict[tuple[str, str], int], first: str, second: str) -> dict[str, Any]:
    n = sum(matrix.values())
    agree = sum(count for (a, b), count in matrix.items() if a == b)
    return {
        "annotator_a": first,
        "annotator_b": second,
        "n": n,
        "percent_agreement": 100 * agree / n if n else None,
        "kappa": cohen_kappa(dict(matrix)),
    }


def reviews_per_hour(session: Session) -> list[dict[str, Any]]:
    """Per annotator: reviews with a recorded time, the hours they took, and reviews per hour of that time.

    Only reviews made in Annotate carry a time (bulk reviews and reviews older than timing do not)."""
    rows = session.exec(
        select(User.username, func.count(), func.sum(Review.seconds_spent))
        .join(User, col(User.id) == Review.reviewer_id)
        .where(col(Review.seconds_spent).is_not(None))
        .group_by(col(User.username))
        .order_by(col(User.username))
    ).all()
    result = []
    for username, count, seconds in rows:
        hours = float(seconds or 0) / 3600
        # A rate needs some time: 10 reviews in 0.0 s (instant test clicks) is not "infinitely fast".
        rate = count / max(hours, 1 / 3600)
        result.append({"annotator": username, "reviews": count, "hours": hours, "per_hour": rate})
    return result
