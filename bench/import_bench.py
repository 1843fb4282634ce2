"""Import speed: 100,000 GSM8K-style problems from JSONL, against a naive ORM-per-row import of a subset.

Run:
    .venv/bin/python bench/import_bench.py                 # 100,000 problems, naive subset 5,000
    .venv/bin/python bench/import_bench.py --problems 20000 --naive 2000

It writes a synthetic GSM8K Socratic-format JSONL (about 4 steps per problem, each with a calculator
annotation, GSM8K-like text lengths) to a temporary folder, imports it into a fresh SQLite file with
backend.importers.import_gsm8k (bulk inserts, one transaction), checks a re-import adds nothing, then
imports a subset row by row with ORM objects and rationales.add_rationale (one flush per rationale),
and prints both rates and their ratio. Everything runs in this one process, one after the other.
"""

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from sqlmodel import Session, func, select

from backend.importers import import_gsm8k
from backend.importers.core import default_split
from backend.importers.gsm8k import parse_gsm8k
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import Dataset, Problem, RationaleSource, Step, TeacherRun

NAMES = ["Janet", "Tom", "Aisha", "Carlos", "Mei", "Olivia", "Ravi", "Sofia"]
ITEMS = ["apples", "pens", "stickers", "books", "marbles", "cupcakes", "tickets", "shells"]


def synthetic_problem(rng: random.Random) -> dict[str, str]:
    """One GSM8K Socratic-style problem: question, 4 annotated 'sub-question ** step' lines, '#### answer'."""
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    a, b, c, d = (rng.randint(2, 60) for _ in range(4))
    question = (
        f"{name} has {a} boxes with {b} {item} in each box. {name} gives away {c} {item} to friends "
        f"at school and then buys {d} more {item} at the market on the way home, paying attention to "
        f"the price of each. How many {item} does {name} have at the end of the day?"
    )
    total, left = a * b, a * b - c
    final = left + d
    lines = [
        f"How many {item} are in the boxes? ** {name} has {a} * {b} = <<{a}*{b}={total}>>{total} {item}.",
        f"How many {item} are left after the gift? ** After giving {c} away, {total} - {c} = "
        f"<<{total}-{c}={left}>>{left} {item} are left.",
        f"How many {item} does {name} buy? ** {name} buys {d} more, which is {d} * 1 = <<{d}*1={d}>>{d}.",
        f"How many {item} are there in the end? ** So {left} + {d} = <<{left}+{d}={final}>>{final} in all.",
    ]
    return {"question": question, "answer": "\n".join([*lines, f"#### {final}"])}


def write_jsonl(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for _ in range(n):
            out.write(json.dumps(synthetic_problem(rng)) + "\n")


def fresh_engine(folder: Path, name: str):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{folder / name}")
    upgrade_to_head(engine)
    return engine


def naive_import(session: Session, path: Path) -> int:
    """The obvious way: parse, then one ORM Problem and one add_rationale (with its flush) per row."""
    problems = parse_gsm8k(path, split=default_split(path.stem), show_progress=False)
    dataset = Dataset(name="naive", source="gsm8k")
    session.add(dataset)
    session.flush()
    run = TeacherRun(name="naive reference", backend="reference", model="gsm8k", dataset_id=dataset.id)
    session.add(run)
    session.flush()
    assert dataset.id is not None
    for parsed in problems:
        problem = Problem(
            dataset_id=dataset.id,
            split=parsed.split,
            external_id=parsed.external_id,
            question=parsed.question,
            gold_answer_raw=parsed.gold_answer_raw,
            gold_answer=parsed.gold_answer,
            gold_solution=parsed.gold_solution,
            gold_steps=parsed.steps,
            num_gold_steps=len(parsed.steps),
            content_hash=parsed.content_hash,
        )
        session.add(problem)
        session.flush()
        steps = [StepText(step["sub_question"], step["text"]) for step in parsed.steps]
        draft = RationaleDraft(
            steps=steps, final_answer=parsed.solution_answer, raw_text=parsed.gold_solution or ""
        )
        add_rationale(session, problem=problem, draft=draft, source=RationaleSource.reference, run_id=run.id)
    session.commit()
    return len(problems)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=5_000, help="rows for the naive ORM-per-row import")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big, small = folder / "train_socratic.jsonl", folder / "train_subset.jsonl"
        write_jsonl(big, args.problems)
        small.write_text("".join(big.read_text().splitlines(keepends=True)[: args.naive]))
        engine = fresh_engine(folder, "bulk.db")
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        with Session(engine) as session:
            cpu = time.process_time()
            report = import_gsm8k(session, big, show_progress=False)
            cpu = time.process_time() - cpu
            again = import_gsm8k(session, big, show_progress=False)
            steps = session.exec(select(func.count()).select_from(Step)).one()
        bulk_rate = report.added / report.seconds
        print(f"bulk: {report.added:,} problems, {steps:,} steps in {report.seconds:.1f} s wall")
        print(f"      {cpu:.1f} s CPU, {bulk_rate:,.0f} problems/s")
        print(f"re-import: {again.added} added, {again.unchanged:,} unchanged in {again.seconds:.1f} s")
        with Session(fresh_engine(folder, "naive.db")) as session:
            started, cpu = time.perf_counter(), time.process_time()
            count = naive_import(session, small)
            naive_seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        naive_rate = count / naive_seconds
        print(f"naive ORM per row: {count:,} problems in {naive_seconds:.1f} s wall")
        print(f"      {cpu:.1f} s CPU, {naive_rate:,.0f} problems/s")
        print(f"bulk is {bulk_rate / naive_rate:.1f}x faster per problem")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
