"""Build a large SQLite database for the scale benchmark (issue 6): by default 100,000 problems x 10 teacher
samples = 1,000,000 rationales with about 4 steps each, revision 1 for every rationale, and some reviews.

Run (about two minutes; builds once, outside the repository):
    nice -n 10 .venv/bin/python bench/scale_build.py /tmp/socratic-scale/studio.db
    .venv/bin/python bench/scale_build.py /tmp/small.db --problems 1000   # a quick small one

The schema comes from the real Alembic migrations; rows go in with bulk driver-level executemany (no ORM
objects) while the secondary indexes are dropped, then every index the models define is built, the
question search index is built (db/search_index.py), and ANALYZE gives SQLite's planner statistics.
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
from db.search_index import ensure_question_search

SAMPLES_PER_PROBLEM = 10
RUNS_PER_DATASET = 2  # each run draws SAMPLES_PER_PROBLEM / RUNS_PER_DATASET samples per problem
DATASETS = [("gsm8k-scale", "gsm8k"), ("svamp-scale", "svamp"), ("symbolic-scale", "reasoning_gym")]
DATASETS += [("arith-scale", "jsonl")]
ANNOTATORS = 12
REVIEWED_FRACTION = 0.05  # reviewed once
DOUBLE_REVIEWED_FRACTION = 0.01  # reviewed by a second annotator too (annotator agreement)
ASSIGNED_FRACTION = 0.02
PROBLEMS_PER_BATCH = 2_000
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
]
ITEMS += ["candles", "balloons", "boxes", "plates", "toys", "cupcakes"]
PLACES = ["the market", "school", "the library", "a garage sale", "the bakery", "the fair", "the park"]
VERBS = ["buys", "finds", "gives away", "sells", "receives", "loses", "packs", "collects"]
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
STATUS = {"accept": "accepted", "reject": "rejected", "flag": "flagged"}

Row = dict[str, Any]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DateTime format (UTC)


def _problem(rng: random.Random, pid: int, n_datasets: int) -> tuple[Row, list[tuple[str, str, str]]]:
    """A templated word problem of realistic length (about 450 characters) and its gold steps."""
    name, other = rng.sample(NAMES, 2)
    item, value = rng.choice(ITEMS), rng.randint(5, 60)
    sentences = [f"{name} has {value} {item} at home before going to {rng.choice(PLACES)}."]
    steps = []
    for _ in range(rng.randint(2, 6)):
        symbol = rng.choice(list(OPS))
        amount = rng.randint(2, 9) if symbol == "*" else rng.randint(1, 40)
        new = OPS[symbol](value, amount)
        times = "times as many " if symbol == "*" else ""
        sentences.append(
            f"Then {name} {rng.choice(VERBS)} {amount} {times}{item} with {other}, who keeps "
            f"a careful list of every one of the {item} they trade."
        )
        steps.append(
            (f"How many {item} does {name} have after that?", f"{value} {symbol} {amount}", str(new))
        )
        value = new
    sentences.append(f"How many {item} does {name} have at the end of the day?")
    gold = str(value)
    row = {
        "id": pid,
        "dataset_id": (pid - 1) % n_datasets + 1,
        "split": "train" if pid % 5 else "test",
        "external_id": f"p{pid}",
        "question": " ".join(sentences),
        "gold_answer_raw": gold,
        "gold_answer": gold,
        "gold_solution": "\n".join(f"{e} = {r}" for _, e, r in steps) + f"\n#### {gold}",
        "gold_steps": json.dumps(
            [{"sub_question": q, "text": f"{e} = {r}", "value": r} for q, e, r in steps]
        ),
        "num_gold_steps": len(steps),
        "meta": "{}",
        "content_hash": f"{pid:064x}",
        "created_at": _ts(START + timedelta(seconds=pid)),
    }
    return row, steps


def _sample_steps(rng: random.Random, gold_steps: list[tuple[str, str, str]]) -> tuple[list[Row], str]:
    """A teacher sample: the gold steps, sometimes with an arithmetic slip or a dropped step."""
    steps: list[Row] = []
    for sub_question, expression, result in gold_steps:
        if rng.random() < 0.08:
            continue
        claimed = result if rng.random() > 0.1 else str(int(result) + rng.randint(1, 9))
        text = f"We compute {expression} = <<{expression}={claimed}>>{claimed}, so now there are {claimed}."
        check = {"expression": expression, "claimed": claimed, "computed": result, "ok": claimed == result}
        steps.append({"sub_question": sub_question, "text": text, "expressions": [check], "value": claimed})
    return steps, steps[-1]["value"] if steps else str(rng.randint(1, 99))


def _reviews(rng: random.Random, rationale_id: int, num_steps: int, when: str) -> list[Row]:
    reviewers = rng.sample(range(2, ANNOTATORS + 2), 2)
    count = 2 if rng.random() < DOUBLE_REVIEWED_FRACTION / REVIEWED_FRACTION else 1
    first = rng.choice(["accept", "accept", "accept", "reject", "flag"])
    rows = []
    for number, reviewer in enumerate(reviewers[:count], start=2):
        verdict = first if rng.random() < 0.8 else rng.choice(list(STATUS))
        tags = (
            [] if verdict == "accept" else [rng.choice(["arithmetic", "missing-step", "wrong-final-answer"])]
        )
        rows.append(
            {
                "rationale_id": rationale_id,
                "revision_number": 1,
                "reviewer_id": reviewer,
                "verdict": verdict,
                "step_ratings": json.dumps([1] * num_steps),
                "first_wrong_step": None,
                "error_tags": json.dumps(tags),
                "comment": "",
                "version": number,
                "created_at": when,
            }
        )
    return rows


def _rationale_rows(
    rng: random.Random, problem: Row, gold_steps: list[Any], rid: int, out: dict[str, list[Row]]
):
    for sample in range(SAMPLES_PER_PROBLEM):
        steps, final = _sample_steps(rng, gold_steps)
        when = _ts(START + timedelta(seconds=rid))
        reviews = _reviews(rng, rid, len(steps), when) if rng.random() < REVIEWED_FRACTION else []
        verdict = (
            "unparseable"
            if rng.random() < 0.05
            else ("correct" if final == problem["gold_answer"] else "wrong")
        )
        out["rationale"].append(
            {
                "id": rid,
                "problem_id": problem["id"],
                "dataset_id": problem["dataset_id"],
                "split": problem["split"],
                "run_id": (problem["dataset_id"] - 1) * RUNS_PER_DATASET + sample % RUNS_PER_DATASET + 1,
                "source": "teacher",
                "sample_index": sample // RUNS_PER_DATASET,
                "raw_text": "\n".join(f"{s['sub_question']} ** {s['text']}" for s in steps)
                + f"\nThe answer is {final}.",
                "final_answer": final,
                "verdict": verdict,
                "logprob": -rng.random() * 40,
                "tokens_out": 20 * len(steps),
                "is_duplicate": 0,
                "error": None,
                "num_steps": len(steps),
                "review_status": STATUS[reviews[-1]["verdict"]] if reviews else "unreviewed",
                "last_reviewer_id": reviews[-1]["reviewer_id"] if reviews else None,
                "assigned_to_id": rng.randint(2, ANNOTATORS + 1)
                if rng.random() < ASSIGNED_FRACTION
                else None,
                "version": 1 + len(reviews),
                "current_revision": 1,
                "created_at": when,
                "updated_at": when,
            }
        )
        out["step"].extend(
            {
                "rationale_id": rid,
                "position": position,
                "sub_question": s["sub_question"],
                "text": s["text"],
                "expressions": json.dumps(s["expressions"]),
                "value": s["value"],
                "value_correct": None,
            }
            for position, s in enumerate(steps)
        )
        content = {
            "steps": [{"sub_question": s["sub_question"], "text": s["text"]} for s in steps],
            "final_answer": final,
        }
        out["revision"].append(
            {
                "rationale_id": rid,
                "number": 1,
                "author_id": None,
                "content": json.dumps(content),
                "comment": "original",
                "reverted_from": None,
                "version": 1,
                "created_at": when,
            }
        )
        out["review"].extend(reviews)
        rid += 1


def _insert(connection: Connection, table: str, rows: list[Row]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" for _ in columns)})'
    connection.exec_driver_sql(sql, [tuple(row[c] for c in columns) for row in rows])  # type: ignore[arg-type]


def _setup_rows(connection: Connection, n_datasets: int) -> None:
    now = _ts(START)
    _insert(
        connection,
        "user",
        [{"id": 1, "username": "admin", "role": "admin", "created_at": now}]
        + [
            {"id": i + 2, "username": f"annotator{i + 1}", "role": "annotator", "created_at": now}
            for i in range(ANNOTATORS)
        ],
    )
    _insert(
        connection,
        "dataset",
        [
            {
                "id": i + 1,
                "name": name,
                "source": source,
                "answer_type": "numeric",
                "description": "",
                "meta": "{}",
                "created_at": now,
            }
            for i, (name, source) in enumerate(DATASETS[:n_datasets])
        ],
    )
    _insert(
        connection,
        "teacherrun",
        [
            {
                "id": (d - 1) * RUNS_PER_DATASET + r + 1,
                "name": f"teacher-{d}-{r}",
                "backend": "vllm",
                "model": "big-teacher",
                "mode": "socratic",
                "prompt_template": "",
                "few_shot": "[]",
                "show_gold": 0,
                "samples": SAMPLES_PER_PROBLEM // RUNS_PER_DATASET,
                "temperature": 0.7 + 0.3 * r,
                "top_p": 1.0,
                "max_tokens": 256,
                "stop": "[]",
                "seed": r,
                "price_per_1k_tokens": 0.0,
                "problem_filter": "{}",
                "dataset_id": d,
                "tokens_in": 0,
                "tokens_out": 0,
                "wall_seconds": 0.0,
                "created_at": now,
            }
            for d in range(1, n_datasets + 1)
            for r in range(RUNS_PER_DATASET)
        ],
    )


def _batches(rng: random.Random, n_problems: int, n_datasets: int) -> Iterator[dict[str, list[Row]]]:
    for start in range(1, n_problems + 1, PROBLEMS_PER_BATCH):
        out: dict[str, list[Row]] = {"problem": [], "rationale": [], "step": [], "revision": [], "review": []}
        for pid in range(start, min(start + PROBLEMS_PER_BATCH, n_problems + 1)):
            problem, gold_steps = _problem(rng, pid, n_datasets)
            out["problem"].append(problem)
            _rationale_rows(rng, problem, gold_steps, (pid - 1) * SAMPLES_PER_PROBLEM + 1, out)
        yield out


def _create_indexes(connection: Connection) -> None:
    for table in SQLModel.metadata.sorted_tables:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            Index.create(index, connection, checkfirst=True)


def build(path: Path, *, n_problems: int, n_datasets: int, seed: int) -> None:
    if path.exists():
        raise SystemExit(f"{path} already exists; remove it first or pick another path")
    started, rng = time.perf_counter(), random.Random(seed)
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    # A plain engine without the app's WAL pragma: one big unjournalled load (a crash means rebuild).
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=OFF")
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
        connection.exec_driver_sql("PRAGMA cache_size=-400000")  # 400 MB page cache for the index builds
        for table in SQLModel.metadata.sorted_tables:  # index once at the end: several times faster
            for index in table.indexes:
                connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
        _setup_rows(connection, n_datasets)
        for number, batch in enumerate(_batches(rng, n_problems, n_datasets), start=1):
            for table_name, rows in batch.items():
                _insert(connection, table_name, rows)
            if number % 10 == 0:
                done = number * PROBLEMS_PER_BATCH * SAMPLES_PER_PROBLEM
                print(f"{done:,} rationales, {time.perf_counter() - started:.0f} s", flush=True)
        print(f"building indexes, {time.perf_counter() - started:.0f} s", flush=True)
        _create_indexes(connection)
    ensure_question_search(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()
    size = path.stat().st_size / 2**30
    total = n_problems * SAMPLES_PER_PROBLEM
    print(f"done: {total:,} rationales in {time.perf_counter() - started:.0f} s, {size:.2f} GiB at {path}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, help="the SQLite file to create (must not exist)")
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--datasets", type=int, default=len(DATASETS), choices=range(1, len(DATASETS) + 1))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.path.parent.mkdir(parents=True, exist_ok=True)
    build(args.path, n_problems=args.problems, n_datasets=args.datasets, seed=args.seed)


if __name__ == "__main__":
    main()
