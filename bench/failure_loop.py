"""The failure loop, measured (issue 23): failures -> named queue -> mended in annotation -> retrain.

A `gsm8k-cpu` ladder's CoT student is evaluated on some of its own training problems (the probe). Its
failures of one error class go, as its own traces, to a named annotation queue through the same call the
Failures page and `socratic-studio failures send` use. A scripted reviewer works through the queue with
the rule a person would apply: keep the student's steps up to the first one that departs from the
reference, write the reference's steps from there and the gold answer, save the edit and accept. The
accepted rationales join the student's set, a new student trains from the same base and recipe, and the
class's count on held-out GSM8K test is compared before and after on the same problems (Wilson intervals,
exact McNemar on "this problem fails in the class").

The ladder's database is copied, never written. The probe is on training problems only, so no held-out
problem's answer reaches training.

Run (after `bench/ladder.py --preset gsm8k-cpu ... --arms answer_only,cot`):
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 OMP_NUM_THREADS=2 \
        .venv/bin/python bench/failure_loop.py --ladder /work/runs/gsm8k-3600 --work /work/runs/loop \
        --probe 400 --category wrong_first_step [--seed 1] > /work/runs/loop.log 2>&1
A class may join several error classes (`--category truncated,looped`: every text cut off before its
answer). A ladder stopped once its student was trained works too: the student is then evaluated on the
held-out problems here.
"""

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ladder_presets import Preset, log, recorded_preset  # noqa: E402
from bench.ladder_run import arm_spec, evaluate, student_key, train  # noqa: E402

REVIEWER = "scripted-reviewer"


def mended_steps(student: list[Any], gold_steps: list[dict[str, Any]], departs_at: int | None) -> list[Any]:
    """The reviewer's rule: the student's steps before the first that departs, then the reference's."""
    from backend.student_formats import StepText

    keep = 0 if departs_at is None else max(0, min(departs_at, len(student), len(gold_steps)))
    reference = [StepText(None, str(step.get("text", ""))) for step in gold_steps[keep:]]
    return [*student[:keep], *reference]


def review_queue(engine: Any, queue_id: int, departs_of: dict[int, int | None]) -> list[int]:
    """Mend and accept every rationale of the queue whose problem has reference steps; their ids.
    `departs_of`: each sent rationale's first step departing from the reference (its trace's)."""
    from sqlmodel import Session

    from backend.access.auth import get_user
    from backend.annotation import get_rationale_view, named_queues, review_rationale, save_edit
    from db.models import Problem, Rationale

    accepted = []
    with Session(engine) as session:
        reviewer = get_user(session, username=REVIEWER)
        assert reviewer is not None
        for rationale_id in named_queues.queue_rationale_ids(session, queue_id=queue_id):
            rationale = session.get(Rationale, rationale_id)
            assert rationale is not None
            problem = session.get(Problem, rationale.problem_id)
            if problem is None or not problem.gold_steps or rationale_id not in departs_of:
                continue
            view = get_rationale_view(session, rationale_id=rationale_id)
            steps = mended_steps(list(view.steps), problem.gold_steps, departs_of[rationale_id])
            edited = save_edit(
                session, rationale_id=rationale_id, expected_version=view.version, steps=steps,
                final_answer=problem.gold_answer, author=reviewer, comment="scripted: mended",
            )  # fmt: skip
            review_rationale(
                session, rationale_id=rationale_id, expected_version=edited.version, verdict="accept",
                reviewer=reviewer, comment="scripted reviewer",
            )  # fmt: skip
            accepted.append(rationale_id)
    return accepted


def send_class(
    engine: Any, probe_run: int, categories: tuple[str, ...]
) -> tuple[int, list[int], dict[int, int | None]]:
    """The probe's failures in any of `categories` (one error class, or a union such as every text cut
    off before its answer) into the queue `loop <categories>`: (queue id, trace ids, each sent
    rationale's first departing step)."""
    from sqlmodel import Session

    from backend.evaluation import failures
    from backend.evaluation.failures import FailureFilter

    with Session(engine) as session:
        trace_ids = sorted(
            trace_id
            for category in categories
            for trace_id in failures.failing_trace_ids(
                session, eval_run_id=probe_run, failure_filter=FailureFilter(error_category=category)
            )
        )
    return send_traces(engine, trace_ids, f"loop {'+'.join(categories)}")


def control_traces(
    engine: Any, probe_run: int, categories: tuple[str, ...], count: int, seed: int
) -> list[int]:
    """As many of the probe's other failures (outside the class) as the class sent, drawn with the seed:
    the control arm mends and retrains on those, so the class's change can be told from what any
    retrain with as many mended failures does."""
    import random

    from sqlmodel import Session, col, select

    from backend.evaluation import failures
    from backend.evaluation.failures import FailureFilter
    from db.models import EvalTrace

    with Session(engine) as session:
        every = failures.failing_trace_ids(session, eval_run_id=probe_run, failure_filter=FailureFilter())
        chosen = select(EvalTrace.id, EvalTrace.error_category).where(col(EvalTrace.id).in_(every))
        category_of = dict(session.exec(chosen).all())
    others = [trace_id for trace_id in every if category_of.get(trace_id) not in categories]
    return sorted(random.Random(seed).sample(others, min(count, len(others))))


def send_traces(engine: Any, trace_ids: list[int], name: str) -> tuple[int, list[int], dict[int, int | None]]:
    """These failures, as the student's own rationales, into the named queue: (queue id, trace ids, each
    sent rationale's first departing step)."""
    from sqlmodel import Session

    from backend.access.auth import create_user, get_user
    from backend.annotation import named_queues
    from backend.evaluation import failures
    from db.models import EvalTrace, Role

    with Session(engine) as session:
        reviewer = get_user(session, username=REVIEWER) or create_user(
            session, username=REVIEWER, role=Role.annotator
        )
        sent = failures.send_to_queue(session, trace_ids=trace_ids, by=reviewer, flag=False, queue_name=name)
        queue = named_queues.queue_named(session, name=name, by=reviewer)
        # One rationale per trace, in the traces' order.
        traces = [session.get(EvalTrace, trace_id) for trace_id in trace_ids]
        departs = {rid: t.first_divergent_step for rid, t in zip(sent, traces, strict=True) if t is not None}
        assert queue.id is not None
        return queue.id, trace_ids, departs


def mended_set(engine: Any, old_set: int, accepted: list[int], name: str = "loop-mended") -> int:
    """A new frozen set: the old set's rationales and the accepted ones."""
    from sqlmodel import Session, select

    from backend.sets import curation
    from db.models import CuratedItem

    with Session(engine) as session:
        old = list(session.exec(select(CuratedItem.rationale_id).where(CuratedItem.set_id == old_set)).all())
        new = curation.create_set(
            session, name=name, picks=[*old, *accepted],
            description="the CoT set plus the failure loop's mended rationales",
        )  # fmt: skip
        assert new.id is not None
        curation.freeze(session, set_id=new.id)
        return new.id


def classes(engine: Any, run_name: str) -> dict[str, str | None]:
    """problem id -> error category (None: right) of the newest evaluation run with this name."""
    from sqlmodel import Session, select

    from db.models import EvalTrace

    run_id = run_id_of(engine, run_name)
    with Session(engine) as session:
        traces = session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == run_id)).all()
        return {str(trace.problem_id): trace.error_category for trace in traces}


def run_id_of(engine: Any, name: str) -> int:
    """The newest evaluation run with this name."""
    from sqlmodel import Session, col, select

    from db.models import EvalRun

    with Session(engine) as session:
        run = session.exec(
            select(EvalRun).where(EvalRun.name == name).order_by(col(EvalRun.id).desc())
        ).first()
        if run is None or run.id is None:
            raise LookupError(f"no evaluation run named {name!r}")
        return run.id


def compare_class(
    before: dict[str, str | None], after: dict[str, str | None], categories: tuple[str, ...]
) -> dict:
    """The class's count (a problem is in it when its error category is one of `categories`) and accuracy
    before and after on the same problems, with intervals and tests."""
    from backend.evaluation.stats import mcnemar_exact, wilson_interval

    ids = sorted(set(before) & set(after), key=int)
    n = len(ids)
    outside = {
        name: [run[pid] not in categories for pid in ids]
        for name, run in (("before", before), ("after", after))
    }
    right = {name: [run[pid] is None for pid in ids] for name, run in (("before", before), ("after", after))}
    row: dict[str, Any] = {"category": "+".join(categories), "n_problems": n}
    for name in ("before", "after"):
        count = n - sum(outside[name])
        interval = wilson_interval(count, n)
        row[name] = {
            "in_class": count,
            "in_class_ci": [interval.low, interval.high],
            "correct": sum(right[name]),
        }
    fewer = mcnemar_exact(outside["after"], outside["before"])  # "a" = after leaves the class
    better = mcnemar_exact(right["after"], right["before"])
    row["class_test"] = {"left_class": fewer.only_a, "entered_class": fewer.only_b, "p_value": fewer.p_value}
    row["accuracy_test"] = {
        "only_after": better.only_a,
        "only_before": better.only_b,
        "p_value": better.p_value,
    }
    return row


def before_evaluation(engine: Any, seed: int, held: list[int], spec: dict, batch: int) -> str:
    """The run the class is counted in before the loop: the ladder's own evaluation of the student on
    GSM8K test (calculator on) when it covers the held-out problems, otherwise the student evaluated on
    them here (a ladder run that only trained)."""
    ladder_run = f"ladder-cot-s{seed}-gsm8k_test"
    try:
        if set(map(str, held)) <= set(classes(engine, ladder_run)):
            return ladder_run
    except LookupError:
        pass
    evaluate(engine, "loop-before-gsm8k_test", held, spec, batch)
    return "loop-before-gsm8k_test"


def run_loop(
    engine: Any, args: argparse.Namespace, payload: dict[str, Any], preset: Preset
) -> dict[str, Any]:
    """The loop: probe, the class into a queue, the reviewer, the retrain, the class before and after."""
    key = student_key("cot", "cot", args.seed)  # the retrain keeps the student's recipe and seed
    spec = arm_spec(preset, "cot", args.seed, payload["students"], payload["sets"])
    probe_ids = payload["splits"]["train"][: args.probe]
    probe = evaluate(engine, "loop-probe", probe_ids, spec, preset.eval_batch)
    if args.category == "most":
        found = [c for c in classes(engine, "loop-probe").values() if c]
        args.category = max(sorted(set(found)), key=found.count) if found else "wrong_first_step"
    categories = class_of(args.category)
    queue_id, trace_ids, departs = send_class(engine, run_id_of(engine, "loop-probe"), categories)
    accepted = review_queue(engine, queue_id, departs)
    log(f"probe: {probe['n_correct']}/{probe['n_problems']} right; {len(trace_ids)} failures in "
        f"{args.category}; {len(accepted)} mended and accepted")  # fmt: skip
    result: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()}, "probe": probe["n_problems"],
        "probe_correct": probe["n_correct"], "sent": len(trace_ids), "accepted": len(accepted),
    }  # fmt: skip
    if accepted:
        set_id = mended_set(engine, payload["sets"]["reference"], accepted)
        trained = train(engine, preset, set_id, key, "loop-cot")
        held = held_out(payload, args.held_out)
        after_spec = spec | {"solver": {"checkpoint_id": trained["checkpoint_id"]}}
        evaluate(engine, "loop-after-gsm8k_test", held, after_spec, preset.eval_batch)
        before_run = before_evaluation(engine, args.seed, held, spec, preset.eval_batch)
        result |= {"trained": trained["hyperparams"].get("tokens_seen"), "train_seconds": trained["seconds"]}
        result |= {"before_run": before_run}
        after = classes(engine, "loop-after-gsm8k_test")
        result["held_out"] = compare_class(counted(engine, before_run, held), after, categories)
        log(json.dumps(result["held_out"]))
    return result


def run_control(
    engine: Any, args: argparse.Namespace, payload: dict[str, Any], preset: Preset, result: dict[str, Any]
) -> dict[str, Any]:
    """The control arm: as many of the probe's failures outside the class as the loop mended, mended by
    the same reviewer, the same retrain; the class is compared between the loop's student and this one."""
    key = student_key("cot", "cot", args.seed)
    spec = arm_spec(preset, "cot", args.seed, payload["students"], payload["sets"])
    categories = class_of(result["args"]["category"])
    drawn = control_traces(engine, run_id_of(engine, "loop-probe"), categories, result["accepted"], args.seed)
    if not drawn:
        log("control: the probe has no failures outside the class; no control arm")
        return {"sent": 0, "accepted": 0}
    queue_id, trace_ids, departs = send_traces(engine, drawn, "loop control")
    accepted = review_queue(engine, queue_id, departs)
    log(f"control: {len(trace_ids)} failures outside the class drawn; {len(accepted)} mended and accepted")
    set_id = mended_set(engine, payload["sets"]["reference"], accepted, name="loop-control")
    trained = train(engine, preset, set_id, key, "loop-control-cot")
    held = held_out(payload, int(result["args"]["held_out"]))
    control_spec = spec | {"solver": {"checkpoint_id": trained["checkpoint_id"]}}
    evaluate(engine, "loop-control-gsm8k_test", held, control_spec, preset.eval_batch)
    control = classes(engine, "loop-control-gsm8k_test")
    before = counted(engine, result.get("before_run", "loop-before-gsm8k_test"), held)
    after = classes(engine, "loop-after-gsm8k_test")
    row = {
        "sent": len(trace_ids),
        "accepted": len(accepted),
        "train_seconds": trained["seconds"],
        "trained": trained["hyperparams"].get("tokens_seen"),
        "against_before": compare_class(before, control, categories),
        # the loop's student against the control's: "before" is the control, "after" the loop's
        "loop_against_control": compare_class(control, after, categories),
    }
    log(json.dumps(row["loop_against_control"]))
    return row


def class_of(category: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in category.split(",") if name.strip())


def held_out(payload: dict[str, Any], limit: int) -> list[int]:
    held: list[int] = payload["splits"]["gsm8k_test"]
    return held[:limit] if limit else held


def counted(engine: Any, run_name: str, held: list[int]) -> dict[str, str | None]:
    """The run's classes on the held-out problems only."""
    wanted = {str(pid) for pid in held}
    return {pid: c for pid, c in classes(engine, run_name).items() if pid in wanted}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--ladder", type=Path, required=True, help="a gsm8k-cpu ladder's work folder (CoT trained)"
    )
    p.add_argument("--work", type=Path, required=True, help="this run's folder (the database is copied here)")
    p.add_argument("--probe", type=int, default=400, help="training problems the student is evaluated on")
    p.add_argument("--held-out", type=int, default=0, help="GSM8K test problems compared (0: all)")
    p.add_argument("--seed", type=int, default=0, help="the ladder's CoT student of this training seed")
    p.add_argument("--category", default="wrong_first_step",
                   help="the error class looped, or several joined by commas as one class "
                   "(truncated,looped: every text cut off before its answer); 'most': the probe's "
                   "most common")  # fmt: skip
    p.add_argument("--control", action="store_true",
                   help="also the control arm (as many failures outside the class, mended and retrained "
                   "the same way); on a WORK whose loop has finished, only the control runs")  # fmt: skip
    args = p.parse_args(argv)
    payload = json.loads((args.ladder / "results.json").read_text())
    preset = recorded_preset(payload)
    if student_key("cot", "cot", args.seed) not in payload["students"]:
        raise SystemExit(f"{args.ladder} has no trained CoT student of seed {args.seed}")
    args.work.mkdir(parents=True, exist_ok=True)
    database, output = args.work / "loop.db", args.work / "failure_loop.json"
    finished = json.loads(output.read_text()) if output.exists() and database.exists() else {}
    if not (args.control and "held_out" in finished):
        finished = {}
        database.unlink(missing_ok=True)
        with sqlite3.connect(args.ladder / "ladder.db") as source:
            source.execute("VACUUM INTO ?", (str(database),))
    from db.engine import open_database

    engine = open_database(f"sqlite:///{database}")
    result = finished or run_loop(engine, args, payload, preset)
    if args.control and result.get("accepted"):
        result["control"] = run_control(engine, args, payload, preset, result)
    output.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
