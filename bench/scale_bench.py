"""Scale benchmark (issue 6): p95 latencies of Explore, the annotation queue, saves and chart aggregates on
the 1,000,000-rationale database from bench/scale_build.py, each beside a naive alternative measured on
the same database in the same process (ratios, since the machine is shared and noisy).

Run (about four minutes; build the database first):
    nice -n 10 .venv/bin/python bench/scale_build.py /tmp/socratic-scale/studio.db
    .venv/bin/python bench/scale_bench.py /tmp/socratic-scale/studio.db --requests 200

Targets: Explore filtered and sorted page of 50 rows p95 < 100 ms; queue next p95 < 50 ms; save an edit
with its revision p95 < 30 ms; each chart aggregate < 500 ms. Naive alternatives: OFFSET paging over full
joined rows with an exact COUNT(*); the same queries with only the schema's original indexes
(--index-comparison, rebuilds indexes: about a minute); search by LIKE scan; charts by loading columns
into pandas. The saves write real revisions into the database (it is a benchmark copy).
"""

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Index, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, func, select

from backend.annotation import (
    get_rationale_view,
    next_in_queue,
    previous_in_queue,
    review_rationale,
    save_edit,
)
from backend.queries import explore
from backend.queries.filters import RationaleFilter
from backend.student_formats import StepText
from db.engine import make_engine
from db.models import Rationale, User
from db.search_index import ensure_question_search

F = RationaleFilter


class SIZE:
    rationales = 1_000_000  # set from the database at start


EXPLORE_CASES: list[tuple[str, RationaleFilter, str, bool]] = [
    ("everything, by id", F(), "id", False),
    ("dataset, by id", F(dataset_id=2), "id", False),
    ("dataset + wrong, by steps desc", F(dataset_id=2, verdict="wrong"), "num_steps", True),
    ("accepted, newest first", F(review_status="accepted"), "created_at", True),
    ("teacher run, by verdict", F(run_id=3), "verdict", False),
    ("search 'marbles', by id", F(search="marbles"), "id", False),
    ("search 'Maria buys' + dataset, by steps", F(search="Maria buys", dataset_id=1), "num_steps", True),
    ("test split + dataset, by review status", F(split="test", dataset_id=1), "review_status", False),
    ("at least 5 steps, by steps", F(min_steps=5), "num_steps", False),
    (
        "dataset + unreviewed + correct, by id",
        F(dataset_id=3, review_status="unreviewed", verdict="correct"),
        "id",
        False,
    ),
    ("unparseable, newest first", F(verdict="unparseable"), "created_at", True),
    ("everything, by steps desc", F(), "num_steps", True),
]
# What the first migration had, before this benchmark's work: the indexes added since, and the two widened.
ADDED_INDEXES = [
    "ix_rationale_accuracy",
    "ix_rationale_run_sort",
    "ix_rationale_review_progress",
    "ix_rationale_steps",
    "ix_rationale_created",
    "ix_rationale_split",
    "ix_rationale_verdict",
]
WIDENED_INDEXES = {
    "ix_rationale_dataset_verdict": "rationale (dataset_id, verdict)",
    "ix_rationale_problem": "rationale (problem_id)",
    "ix_rationale_review_queue": "rationale (review_status, id)",
    "ix_review_rationale": "review (rationale_id, reviewer_id)",
}


def _page(rng: random.Random) -> int:
    draw = rng.random()
    return 0 if draw < 0.5 else rng.randint(1, 20) if draw < 0.9 else rng.randint(21, 200)


class Timings(list[float]):
    """Wall-clock milliseconds per request, with the CPU milliseconds this thread spent (`cpu`): on a
    shared, overloaded machine the wall time includes waiting for a core, the CPU time does not."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: list[float] = []

    def timed(self, fn: Callable[[], Any]) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        fn()
        self.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.thread_time() - cpu) * 1000)


def measure(fn: Callable[[random.Random], Any], n: int, seed: int = 0) -> Timings:
    rng, times = random.Random(seed), Timings()
    for _ in range(n):
        times.timed(lambda: fn(rng))
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


def explore_page(session: Session, rng: random.Random) -> None:
    _, flt, sort, descending = rng.choice(EXPLORE_CASES)
    explore.page_rationales(session, rationale_filter=flt, sort=sort, descending=descending, page=_page(rng))


def naive_page(session: Session, rng: random.Random) -> None:
    """What a first version writes: all columns of the joined rows, ORDER BY + OFFSET, exact COUNT(*)."""
    _, flt, sort, descending = rng.choice(EXPLORE_CASES)
    where = flt.apply(select(Rationale.id)).whereclause  # the same WHERE, built the same way
    compiled = where.compile(compile_kwargs={"literal_binds": True}) if where is not None else "1 = 1"
    order = f"rationale.{sort} {'DESC' if descending else 'ASC'}, rationale.id"
    body = f"FROM rationale JOIN problem ON problem.id = rationale.problem_id WHERE {compiled}"
    session.connection().exec_driver_sql(
        f"SELECT rationale.*, problem.* {body} ORDER BY {order} LIMIT 50 OFFSET {_page(rng) * 50}"
    ).all()
    session.connection().exec_driver_sql(f"SELECT count(*) {body}").one()


def queue_next(session: Session, users: list[User], rng: random.Random) -> None:
    user, after = rng.choice(users), rng.randint(1, SIZE.rationales)
    mode, flt = rng.choice(
        [
            ("unreviewed", None),
            ("unreviewed", F(dataset_id=rng.randint(1, 4), verdict="wrong")),
            ("assigned", None),
            ("filter", F(review_status="flagged")),
        ]
    )
    if rng.random() < 0.8:
        next_in_queue(session, user=user, rationale_filter=flt, after_id=after, mode=mode)
    else:
        previous_in_queue(session, user=user, rationale_filter=flt, before_id=after, mode=mode)


def naive_queue_next(session: Session, rng: random.Random) -> None:
    """Queue position by OFFSET: the n-th unreviewed rationale, as a page-number queue would ask."""
    session.connection().exec_driver_sql(
        "SELECT id FROM rationale WHERE review_status = 'unreviewed' ORDER BY id LIMIT 1 "
        f"OFFSET {rng.randint(0, SIZE.rationales * 9 // 10)}"
    ).all()


class Saver:
    """Opens a random rationale (not timed), then times the save of an edited step."""

    def __init__(self, session: Session, user: User):
        self.session, self.user = session, user
        self.elapsed = Timings()

    def __call__(self, rng: random.Random) -> None:
        rationale_id = rng.randint(1, SIZE.rationales)
        view = get_rationale_view(self.session, rationale_id=rationale_id)
        steps = list(view.steps) or [StepText(None, "start")]
        at = rng.randrange(len(steps))
        steps[at] = StepText(steps[at].sub_question, steps[at].text + " (checked)")
        self.elapsed.timed(
            lambda: save_edit(
                self.session,
                rationale_id=rationale_id,
                expected_version=view.version,
                steps=steps,
                final_answer=view.final_answer,
                author=self.user,
                comment="bench",
            )
        )


def review_once(session: Session, user: User, rng: random.Random) -> None:
    rationale_id = rng.randint(1, SIZE.rationales)
    view = get_rationale_view(session, rationale_id=rationale_id)
    review_rationale(
        session,
        rationale_id=rationale_id,
        expected_version=view.version,
        verdict=rng.choice(["accept", "reject"]),
        reviewer=user,
    )


CHARTS: dict[str, Callable[[Session], Any]] = {
    "accuracy by dataset and run": explore.accuracy_by_run,
    "step-count histogram": lambda s: explore.step_count_histogram(s, rationale_filter=F()),
    "step-count histogram, dataset + wrong": lambda s: explore.step_count_histogram(
        s, rationale_filter=F(dataset_id=2, verdict="wrong")
    ),
    "review progress": explore.review_progress,
    "annotator agreement": explore.annotator_agreement,
}


def pandas_charts(session: Session) -> None:
    """The naive way: load the columns and group in pandas."""
    import pandas as pd

    frame = pd.read_sql(
        "SELECT dataset_id, run_id, verdict, review_status, num_steps FROM rationale", session.connection()
    )
    frame.groupby(["dataset_id", "run_id", "verdict"]).size()
    frame.groupby(["num_steps", "verdict"]).size()
    frame.groupby(["dataset_id", "review_status"]).size()


def ensure_indexes(engine: Engine) -> None:
    """Every index the models define, with the models' columns (a database built by an older
    scale_build.py gets changed definitions rebuilt), then fresh planner statistics."""
    started = time.perf_counter()
    with engine.begin() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for index in table.indexes:
                stored = [row[2] for row in connection.exec_driver_sql(f"PRAGMA index_info({index.name})")]
                if stored and stored != [column.name for column in index.columns]:
                    connection.exec_driver_sql(f"DROP INDEX {index.name}")
                Index.create(index, connection, checkfirst=True)
    ensure_question_search(engine)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    print(f"(indexes and statistics checked in {time.perf_counter() - started:.1f} s)", flush=True)


def use_original_indexes(engine: Engine) -> None:
    """Drop the indexes this work added and put back the first migration's definitions of the widened ones."""
    with engine.begin() as connection:
        for name in [*ADDED_INDEXES, *WIDENED_INDEXES]:
            connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
        for name, definition in WIDENED_INDEXES.items():
            connection.execute(text(f"CREATE INDEX {name} ON {definition}"))
        connection.execute(text("ANALYZE"))


def restore_indexes(engine: Engine) -> None:
    with engine.begin() as connection:
        for name in WIDENED_INDEXES:
            connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
    ensure_indexes(engine)


def scan_search(session: Session, flt: RationaleFilter) -> None:
    """The filter's own LIKE over every problem's question (what search does without the trigram index)."""
    session.exec(flt.apply(select(col(Rationale.id))).order_by(col(Rationale.id)).limit(50)).all()
    inner = flt.apply(select(col(Rationale.id))).limit(explore.COUNT_CAP + 1).subquery()
    session.exec(select(func.count()).select_from(inner)).one()


def row(name: str, times: Timings, target: float | None) -> str:
    met = "" if target is None else ("yes" if p95(times) < target else "**no**")
    goal = "" if target is None else f"< {target:.0f}"
    median, worst, cpu = statistics.median(times), max(times), p95(times.cpu)
    cells = [name, len(times), f"{median:.1f}", f"{p95(times):.1f}", f"{cpu:.1f}", f"{worst:.1f}", goal, met]
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def ratio_row(name: str, ours: float, naive: float) -> str:
    return f"| {name} | {ours:.1f} | {naive:.1f} | {naive / ours:.1f}x |"


def one_case(
    session: Session, flt: RationaleFilter, sort: str, descending: bool
) -> Callable[[random.Random], Any]:
    def fetch(rng: random.Random) -> Any:
        return explore.page_rationales(
            session, rationale_filter=flt, sort=sort, descending=descending, page=_page(rng)
        )

    return fetch


def target_rows(session: Session, requests: int, chart_requests: int) -> tuple[list[str], dict[str, float]]:
    users = list(session.exec(select(User)).all())
    annotator = next(u for u in users if u.role == "annotator")
    explore_times = measure(lambda rng: explore_page(session, rng), requests)
    queue_times = measure(lambda rng: queue_next(session, users, rng), requests)
    saver = Saver(session, annotator)
    measure(saver, requests)
    lines = [row("Explore page (mixed filters, sorts, pages)", explore_times, 100)]
    for name, flt, sort, descending in EXPLORE_CASES:
        lines.append(row(f"Explore page: {name}", measure(one_case(session, flt, sort, descending), 20), 100))
    lines.append(row("Queue next/previous (mixed modes and filters)", queue_times, 50))
    lines.append(row("Save edit + revision", saver.elapsed, 30))
    reviews = measure(lambda rng: review_once(session, annotator, rng), requests // 2)
    lines.append(row("Review (accept/reject) of a rationale", reviews, 30))
    p95s = {"explore": p95(explore_times), "queue": p95(queue_times)}
    for name, chart in CHARTS.items():
        times = measure(lambda rng, chart=chart: chart(session), chart_requests)  # type: ignore[misc]
        p95s[name] = p95(times)
        lines.append(row(f"Chart: {name}", times, 500))
    return lines, p95s


def naive_rows(session: Session, requests: int, ours: dict[str, float]) -> list[str]:
    naive_explore = measure(lambda rng: naive_page(session, rng), max(20, requests // 4))
    naive_queue = measure(lambda rng: naive_queue_next(session, rng), max(20, requests // 4))
    three = ("accuracy by dataset and run", "step-count histogram", "review progress")
    pandas_charts(session)  # warm-up: the pandas import and the page cache are not what is compared
    pandas_times = measure(lambda rng: pandas_charts(session), 3)
    search_ours = measure(
        lambda rng: explore.page_rationales(session, rationale_filter=F(search="marbles")), 20
    )
    search_scan = measure(lambda rng: scan_search(session, F(search="marbles")), 20)
    return [
        ratio_row(
            "Explore page: OFFSET over full joined rows + exact COUNT(*)", ours["explore"], p95(naive_explore)
        ),
        ratio_row("Queue next: position by OFFSET", ours["queue"], p95(naive_queue)),
        ratio_row("Three charts: pandas load + groupby", sum(ours[n] for n in three), max(pandas_times)),
        ratio_row("Search 'marbles' page + count: LIKE scan", p95(search_ours), p95(search_scan)),
    ]


def run(path: Path, requests: int, chart_requests: int, index_comparison: bool) -> None:
    engine = make_engine(f"sqlite:///{path}")
    ensure_indexes(engine)
    load_before = f"{os.getloadavg()[0]:.1f}"
    with Session(engine) as session:
        SIZE.rationales = int(session.exec(select(func.max(Rationale.id))).one() or 0)
        lines, ours = target_rows(session, requests, chart_requests)
        comparisons = naive_rows(session, requests, ours)
    if index_comparison:
        comparisons.extend(index_comparison_rows(engine, requests))
    print(f"load average before / after: {load_before} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| measurement | n | p50 ms | p95 ms | p95 CPU ms | max ms | target ms | met |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    print("\n| naive alternative | ours p95 ms | naive p95 ms | naive / ours |\n|---|---|---|---|")
    print("\n".join(comparisons))


def index_comparison_rows(engine: Engine, requests: int) -> list[str]:
    with Session(engine) as session:
        ours = measure(lambda rng: explore_page(session, rng), requests)
        charts_ours = measure(lambda rng: [chart(session) for chart in CHARTS.values()], 3)
    started = time.perf_counter()
    use_original_indexes(engine)
    print(f"(original indexes in place after {time.perf_counter() - started:.0f} s)", flush=True)
    with Session(engine) as session:
        before = measure(lambda rng: explore_page(session, rng), requests)
        charts_before = measure(lambda rng: [chart(session) for chart in CHARTS.values()], 3)
    restore_indexes(engine)
    return [
        ratio_row("Explore page (mixed): first migration's indexes", p95(ours), p95(before)),
        ratio_row(
            "All five charts together: first migration's indexes", max(charts_ours), max(charts_before)
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, nargs="?", default=Path("/tmp/socratic-scale/studio.db"))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--chart-requests", type=int, default=10)
    parser.add_argument("--index-comparison", action="store_true", help="also time with the original indexes")
    args = parser.parse_args()
    if not args.path.exists():
        raise SystemExit(f"{args.path} does not exist; build it with bench/scale_build.py first")
    run(args.path, args.requests, args.chart_requests, args.index_comparison)


if __name__ == "__main__":
    main()
