"""Build a large SQLite database for the scale benchmark (issue 6): by default 100,000 problems x 10 teacher
samples = 1,000,000 rationales with about 4 steps each, revision 1 for every rationale, and some reviews.

Run (a few minutes; builds once, outside the repository):
    nice -n 10 .venv/bin/python bench/scale_build.py /tmp/socratic-scale/studio.db
    .venv/bin/python bench/scale_build.py /tmp/small.db --problems 1000   # a quick small one

The schema comes from the real Alembic migrations; rows go in with bulk driver-level executemany (no ORM
objects) while the secondary indexes are dropped, and every index the models define is built at the end,
followed by ANALYZE so SQLite's planner has statistics.
"""

import argparse
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Index, create_engine
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on SQLModel.metadata)
from db.engine import make_engine
from db.migrate import upgrade_to_head

SAMPLES_PER_PROBLEM = 10
RUNS_PER_DATASET = 2  # each run draws SAMPLES_PER_PROBLEM / RUNS_PER_DATASET samples per problem
DATASETS = [
    ("gsm8k-scale", "gsm8k"),
    ("svamp-scale", "svamp"),
    ("gsm-symbolic-scale", "reasoning_gym"),
    ("arith-scale", "jsonl"),
]
ANNOTATORS = 12
REVIEWED_FRACTION = 0.05  # reviewed once
DOUBLE_REVIEWED_FRACTION = 0.01  # reviewed by a second annotator too (annotator agreement)
ASSIGNED_FRACTION = 0.02
BATCH = 20_000
START = datetime(2025, 1, 1, tzinfo=UTC)

NAMES = ["Tom", "Maria", "Aisha", "Kenji", "Lena", "Omar", "Priya", "Jonas", "Sofia", "Mateo", "Chen", "Zara"]
ITEMS = [
    "marbles",
    "apples",
    "pens",
    "stickers",
    "books",
    "cookies",
    "tickets",
    "coins",
    "shells",
    "cards",
    "eggs",
    "pencils",
    "flowers",
    "stamps",
    "candles",
    "balloons",
    "boxes",
    "plates",
    "toys",
    "cupcakes",
]
PLACES = ["the market", "school", "the library", "a garage sale", "the bakery", "the fair", "the park"]
VERBS = ["buys", "finds", "gives away", "sells", "receives", "loses", "packs", "collects"]
OPS = [("+", lambda a, b: a + b), ("-", lambda a, b: a - b), ("*", lambda a, b: a * b)]


def _ts(moment: datetime) -> str:
    # SQLAlchemy's SQLite DateTime storage format (UTC, no offset).
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _question(rng: random.Random) -> tuple[str, str, list[tuple[str, str, str]]]:
    """A templated word problem of realistic length, its gold answer, and its gold steps."""
    name, other = rng.sample(NAMES, 2)
    item, place = rng.choice(ITEMS), rng.choice(PLACES)
    value = rng.randint(5, 60)
    sentences = [f"{name} has {value} {item} at home before going to {place}."]
    steps = []
    for _ in range(rng.randint(2, 6)):
        symbol, func = rng.choice(OPS)
        amount = rng.randint(2, 9) if symbol == "*" else rng.randint(1, 40)
        new = func(value, amount)
        verb = rng.choice(VERBS)
        sentences.append(
            f"Then {name} {verb} {amount} {'times as many' if symbol == '*' else ''} {item} "
            f"with {other}, who keeps a careful list of every {item[:-1]} they trade."
        )
        steps.append(
            (f"How many {item} does {name} have after that?", f"{value} {symbol} {amount}", str(new))
        )
        value = new
    sentences.append(f"How many {item} does {name} have at the end of the day?")
    return " ".join(sentences), str(value), steps


def _sample_steps(
    rng: random.Random, gold_steps: list[tuple[str, str, str]]
) -> tuple[list[dict[str, Any]], str]:
    """A teacher sample: the gold steps, sometimes with an arithmetic slip or a dropped step."""
    steps: list[dict[str, Any]] = []
    for sub_question, expression, result in gold_steps:
        if rng.random() < 0.08:
            continue
        claimed = result if rng.random() > 0.1 else str(int(result) + rng.randint(1, 9))
        steps.append(
            {
                "sub_question": sub_question,
                "text": f"We compute {expression} = <<{expression}={claimed}>>{claimed}, "
                f"so now there are {claimed}.",
                "expressions": [
                    {
                        "expression": expression,
                        "claimed": claimed,
                        "computed": result,
                        "ok": claimed == result,
                    }
                ],
                "value": claimed,
            }
        )
    final = steps[-1]["value"] if steps else str(rng.randint(1, 99))
    return steps, final


def _drop_secondary_indexes(connection: Connection) -> None:
    # Loading into bare tables and indexing once at the end is several times faster than index upkeep.
    for table in SQLModel.metadata.sorted_tables:
        for index in table.indexes:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")


def _create_indexes(connection: Connection) -> None:
    for table in SQLModel.metadata.sorted_tables:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            started = time.perf_counter()
            Index.create(index, connection, checkfirst=True)
            print(f"  index {index.name}: {time.perf_counter() - started:.1f} s", flush=True)


def _insert(connection: Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # type: ignore[arg-type]


PROBLEM_COLS = [
    "id",
    "dataset_id",
    "split",
    "external_id",
    "question",
    "gold_answer_raw",
    "gold_answer",
    "gold_solution",
    "gold_steps",
    "num_gold_steps",
    "meta",
    "content_hash",
    "created_at",
]
RATIONALE_COLS = [
    "id",
    "problem_id",
    "dataset_id",
    "run_id",
    "source",
    "sample_index",
    "raw_text",
    "final_answer",
    "verdict",
    "logprob",
    "tokens_out",
    "is_duplicate",
    "error",
    "num_steps",
    "review_status",
    "last_reviewer_id",
    "assigned_to_id",
    "version",
    "current_revision",
    "created_at",
    "updated_at",
]
STEP_COLS = ["rationale_id", "position", "sub_question", "text", "expressions", "value", "value_correct"]
REVISION_COLS = ["rationale_id", "number", "author_id", "content", "comment", "reverted_from", "created_at"]
REVIEW_COLS = [
    "rationale_id",
    "revision_number",
    "reviewer_id",
    "verdict",
    "step_verdicts",
    "first_wrong_step",
    "error_tags",
    "comment",
    "created_at",
]


def _setup_rows(connection: Connection, n_datasets: int) -> None:
    users = [(1, "admin", "admin", _ts(START))] + [
        (i + 2, f"annotator{i + 1}", "annotator", _ts(START)) for i in range(ANNOTATORS)
    ]
    _insert(connection, "user", ["id", "username", "role", "created_at"], users)  # type: ignore[arg-type]
    datasets = [
        (i + 1, name, source, "numeric", "", "{}", _ts(START))
        for i, (name, source) in enumerate(DATASETS[:n_datasets])
    ]
    _insert(
        connection,
        "dataset",
        ["id", "name", "source", "answer_type", "description", "meta", "created_at"],
        datasets,
    )  # type: ignore[arg-type]
    runs = []
    for dataset_id in range(1, n_datasets + 1):
        for r in range(RUNS_PER_DATASET):
            run_id = (dataset_id - 1) * RUNS_PER_DATASET + r + 1
            runs.append(
                (
                    run_id,
                    f"teacher-{dataset_id}-{r}",
                    "vllm",
                    "big-teacher",
                    "socratic",
                    "",
                    "[]",
                    0,
                    SAMPLES_PER_PROBLEM // RUNS_PER_DATASET,
                    0.7 + 0.3 * r,
                    1.0,
                    256,
                    "[]",
                    r,
                    0.0,
                    "{}",
                    dataset_id,
                    0,
                    0,
                    0.0,
                    _ts(START),
                )
            )
    _insert(
        connection,
        "teacherrun",
        [
            "id",
            "name",
            "backend",
            "model",
            "mode",
            "prompt_template",
            "few_shot",
            "show_gold",
            "samples",
            "temperature",
            "top_p",
            "max_tokens",
            "stop",
            "seed",
            "price_per_1k_tokens",
            "problem_filter",
            "dataset_id",
            "tokens_in",
            "tokens_out",
            "wall_seconds",
            "created_at",
        ],
        runs,
    )


def _reviews_for(rng: random.Random, rationale_id: int, num_steps: int, when: str) -> list[tuple[Any, ...]]:
    reviewers = rng.sample(range(2, ANNOTATORS + 2), 2)
    count = 2 if rng.random() < DOUBLE_REVIEWED_FRACTION / REVIEWED_FRACTION else 1
    first = rng.choice(["accept", "accept", "accept", "reject", "flag"])
    rows = []
    for reviewer in reviewers[:count]:
        verdict = first if rng.random() < 0.8 else rng.choice(["accept", "reject", "flag"])
        tags = (
            [] if verdict == "accept" else [rng.choice(["arithmetic", "missing-step", "wrong-final-answer"])]
        )
        rows.append(
            (
                rationale_id,
                1,
                reviewer,
                verdict,
                json.dumps(["ok"] * num_steps),
                None,
                json.dumps(tags),
                "",
                when,
            )
        )
    return rows


def _problem_batches(rng: random.Random, n_problems: int, n_datasets: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for pid in range(1, n_problems + 1):
        question, gold, steps = _question(rng)
        dataset_id = (pid - 1) % n_datasets + 1
        gold_steps = [
            {"sub_question": q, "text": f"{e} = {r}", "expressions": [], "value": r} for q, e, r in steps
        ]
        batch.append(
            (
                pid,
                dataset_id,
                "train" if pid % 5 else "test",
                f"p{pid}",
                question,
                gold,
                gold,
                "\n".join(f"{e} = {r}" for _, e, r in steps) + f"\n#### {gold}",
                json.dumps(gold_steps),
                len(steps),
                "{}",
                f"{pid:064x}",
                _ts(START + timedelta(seconds=pid)),
            )
        )
        if len(batch) >= BATCH // SAMPLES_PER_PROBLEM:
            yield batch
            batch = []
    if batch:
        yield batch


def _rationales_for(
    rng: random.Random, problems: list[tuple[Any, ...]], next_id: int
) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {"rationale": [], "step": [], "revision": [], "review": []}
    for problem in problems:
        pid, dataset_id, gold = problem[0], problem[1], problem[6]
        gold_steps = [
            (s["sub_question"], s["text"].split(" = ")[0], s["value"]) for s in json.loads(problem[8])
        ]
        for sample in range(SAMPLES_PER_PROBLEM):
            rid, next_id = next_id, next_id + 1
            run_id = (dataset_id - 1) * RUNS_PER_DATASET + sample % RUNS_PER_DATASET + 1
            steps, final = _sample_steps(rng, gold_steps)
            verdict = "unparseable" if rng.random() < 0.05 else ("correct" if final == gold else "wrong")
            when = _ts(START + timedelta(seconds=rid))
            reviewed = rng.random() < REVIEWED_FRACTION
            reviews = _reviews_for(rng, rid, len(steps), when) if reviewed else []
            status = (
                {"accept": "accepted", "reject": "rejected", "flag": "flagged"}[reviews[-1][3]]
                if reviews
                else "unreviewed"
            )
            assigned = rng.randint(2, ANNOTATORS + 1) if rng.random() < ASSIGNED_FRACTION else None
            raw = (
                "\n".join(f"{s['sub_question']} ** {s['text']}" for s in steps) + f"\nThe answer is {final}."
            )
            rows["rationale"].append(
                (
                    rid,
                    pid,
                    dataset_id,
                    run_id,
                    "teacher",
                    sample // RUNS_PER_DATASET,
                    raw,
                    final,
                    verdict,
                    -rng.random() * 40,
                    20 * len(steps),
                    0,
                    None,
                    len(steps),
                    status,
                    reviews[-1][2] if reviews else None,
                    assigned,
                    1 + len(reviews),
                    1,
                    when,
                    when,
                )
            )
            for position, s in enumerate(steps):
                rows["step"].append(
                    (
                        rid,
                        position,
                        s["sub_question"],
                        s["text"],
                        json.dumps(s["expressions"]),
                        s["value"],
                        None,
                    )
                )
            content = {
                "steps": [{"sub_question": s["sub_question"], "text": s["text"]} for s in steps],
                "final_answer": final,
            }
            rows["revision"].append((rid, 1, None, json.dumps(content), "original", None, when))
            rows["review"].extend(reviews)
    return rows


def build(path: Path, *, n_problems: int, n_datasets: int, seed: int) -> None:
    if path.exists():
        raise SystemExit(f"{path} already exists; remove it first or pick another path")
    started = time.perf_counter()
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    # A plain engine without the app's WAL pragma: one big unjournalled load (a crash means rebuild).
    engine = create_engine(f"sqlite:///{path}")
    rng = random.Random(seed)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=OFF")
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA cache_size=-400000")  # 400 MB page cache for the index builds
        _drop_secondary_indexes(connection)
        _setup_rows(connection, n_datasets)
        next_id = 1
        for problems in _problem_batches(rng, n_problems, n_datasets):
            _insert(connection, "problem", PROBLEM_COLS, problems)
            rows = _rationales_for(rng, problems, next_id)
            next_id += len(rows["rationale"])
            _insert(connection, "rationale", RATIONALE_COLS, rows["rationale"])
            _insert(connection, "step", STEP_COLS, rows["step"])
            _insert(connection, "revision", REVISION_COLS, rows["revision"])
            if rows["review"]:
                _insert(connection, "review", REVIEW_COLS, rows["review"])
            if (next_id - 1) % 100_000 == 0:
                print(f"{next_id - 1:,} rationales, {time.perf_counter() - started:.0f} s", flush=True)
        print("building indexes", flush=True)
        _create_indexes(connection)
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()
    size = path.stat().st_size / 2**30
    print(
        f"done: {next_id - 1:,} rationales in {time.perf_counter() - started:.0f} s, {size:.2f} GiB at {path}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, help="the SQLite file to create (must not exist)")
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--datasets", type=int, default=4, choices=range(1, len(DATASETS) + 1))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.path.parent.mkdir(parents=True, exist_ok=True)
    build(args.path, n_problems=args.problems, n_datasets=args.datasets, seed=args.seed)


if __name__ == "__main__":
    main()
