"""The distillation ladder: students trained from one base (SmolLM2-135M-Instruct) on the same training
problems, scored on held-out problems with 95% Wilson intervals and exact McNemar tests.

Training problems: reasoning-gym gsm_symbolic at the training seed, curated to the templates whose every
reference step states its arithmetic (`a op b = c`); never a GSM8K test row. Sub-questions for their steps
are written by this app's teacher in `rationalize` mode and checked with backend.subquestion_checks.
Evaluation sets: gsm_symbolic at a seed never used for training (questions also seen in training
removed), and a fixed random subset of GSM8K test (all of it in the gpu preset, plus SVAMP).
Arms: floor (untrained base, few-shot CoT), answer_only, cot, socratic (decomposer + solver trained on the
rationales whose sub-questions all pass the checks), socratic_masked (all rationales, flagged sub-questions
left out of the loss), socratic_unfiltered, unified(_masked) (one model asks and answers) and
divide_conquer (a decompose-only student, the untrained base with the floor's shots as solver); each preset
names its arms.

Run from the project root (a fresh database under --work; the prepared SmolLM2 folder is reused):
    nohup .venv/bin/python bench/ladder.py --preset cpu --work /tmp/ladder > /tmp/ladder.log 2>&1 &
    .venv/bin/python bench/ladder.py --dry-run --work /tmp/ladder-dry   # the same code path, tiny sizes
Writes WORK/results.json after every evaluation and prints the Markdown table (bench/ladder_report.py).
"""

import os
import random
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The shared datasets beside the project; on the GPU machine the carried copies (bench/gpu_bundle.sh).
DATASETS = Path(os.environ.get("SOCRATIC_DATASETS", ROOT.parent / "shared" / "datasets"))
TRAIN_DATASET = "ladder-train"
TRAIN_SEED, EVAL_SEED = 1, 1000  # reasoning-gym seeds: disjoint generators; duplicates removed by text


@dataclass(frozen=True)
class Preset:
    n_train: int  # training problems (every arm)
    pool: int  # gsm_symbolic items generated at the training seed, curated down to n_train
    n_eval_symbolic: int
    n_eval_gsm8k: int  # 0 = all 1,319; -1 = no GSM8K test evaluation
    n_svamp: int  # 0 = no SVAMP evaluation
    epochs: float
    learning_rate: float
    batch_size: int
    few_shot: int  # shots for the floor
    teacher_backend: str
    arms: tuple[str, ...]
    device: str = "auto"
    train_source: str = "gsm_symbolic"
    # Sequences decoded together in an evaluation: on a CPU decoding is memory-bound, so 64 at once cost
    # little more per step than 16 (the first cpu run, at 16, took 13 min per 64 floor problems).
    eval_batch: int = 64  # or "gsm8k": GSM8K train.jsonl rows [0, pool), every one kept


# The gpu preset's arms: the pair and the single model with flagged sub-questions masked (the curation that
# did best on CPU, `cpu-socratic` runs 4-6), the unfiltered pair beside them, and Divide-or-Conquer.
GPU_ARMS = (
    *("floor", "answer_only", "cot", "socratic_masked"),
    *("socratic_unfiltered", "unified_masked", "divide_conquer"),
)
CPU = Preset(
    600, 900, 150, 150, 0, 3, 2e-4, 8, 1, "transformers", ("answer_only", "cot", "socratic_masked", "floor")
)
PRESETS = {
    # The gpu preset's path (GSM8K train, SVAMP) plus the held-out gsm_symbolic set, at a tiny size.
    "dry-run": Preset(8, 8, 4, 4, 4, 1, 1e-4, 4, 1, "transformers", GPU_ARMS, "auto", "gsm8k"),
    # 600 problems x 3 epochs (the first run, 240 problems x 1 epoch: 30 optimizer steps, learned nothing).
    # Run 8 trained run 7's arms a third epoch on the same data: CoT 46.7% -> 61.3% held out. About 1.3M
    # training tokens over the four students, about 30 minutes at the 590-770 tokens/s of run 9 (2 AMX
    # cores, tcmalloc); 61 minutes in all. The Socratic pair is the step-curated one (`cpu-socratic`
    # runs 4-6: all 600 rationales, flagged sub-questions left out of the loss).
    "cpu": CPU,
    # The other arms at the same size: the unfiltered pair (every sub-question learned, the same solver)
    # measures the curation, the single model asks and answers, Divide-or-Conquer plans for the untrained
    # base. Run 7 ran the unfiltered pair and Divide-or-Conquer at 2 epochs beside the base arms.
    "cpu-extra": replace(
        CPU, arms=("socratic_masked", "socratic_unfiltered", "unified_masked", "divide_conquer", "floor")
    ),
    # Step-level curation of the Socratic pair, paired with CoT and the floor on held-out gsm_symbolic (run 2
    # trained the pair on the 406 rationales with every sub-question clean: shorter problems, since a
    # rationale's chance of a flag grows with its steps). Here the pair trains on all 600 and only the
    # flagged sub-questions are left out of the decomposer's loss; socratic_unfiltered (all 600, every
    # sub-question learned, the same solver) separates keeping the rationales from masking the flags;
    # unified_masked is one model trained on both the pair's targets, flags masked the same way.
    "cpu-socratic": Preset(
        600,
        900,
        150,
        -1,
        0,
        2,
        2e-4,
        8,
        1,
        "transformers",
        ("cot", "socratic_masked", "socratic_unfiltered", "unified_masked", "floor"),
    ),
    "gpu": Preset(7473, 7473, 1000, 0, 1000, 2, 1e-4, 32, 4, "transformers", GPU_ARMS, "cuda", "gsm8k"),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def question_key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def curated_for_training(problem: Any) -> bool:
    """Templates whose every reference step states its arithmetic: a step is one calculation."""
    steps = problem.gold_steps or []
    return 2 <= len(steps) <= 8 and all("=" in (step.get("text") or "") for step in steps)


def import_data(session: Any, preset: Preset) -> dict[str, list[int]]:
    """Problem ids of the training problems and of each evaluation set (disjoint by question text)."""
    from sqlmodel import col, select

    from backend.importers.gsm8k import import_gsm8k
    from backend.importers.reasoning_gym import import_reasoning_gym
    from db.models import Problem

    def ids_of(dataset_id: int) -> list[Problem]:
        query = select(Problem).where(Problem.dataset_id == dataset_id).order_by(col(Problem.id))
        return list(session.exec(query).all())

    if preset.train_source == "gsm8k":  # all of GSM8K train, as the papers train
        pool = import_gsm8k(
            session, DATASETS / "gsm8k" / "train.jsonl", name=TRAIN_DATASET, show_progress=False
        )
        train = ids_of(pool.dataset_id)[: preset.n_train]
    else:
        pool = import_reasoning_gym(
            session, "gsm_symbolic", size=preset.pool, seed=TRAIN_SEED, split="train",
            name=TRAIN_DATASET, show_progress=False,
        )  # fmt: skip
        train = [p for p in ids_of(pool.dataset_id) if curated_for_training(p)][: preset.n_train]
    seen = {question_key(p.question) for p in ids_of(pool.dataset_id)}
    heldout: list[Any] = []
    if preset.n_eval_symbolic:
        held = import_reasoning_gym(
            session, "gsm_symbolic", size=preset.n_eval_symbolic * 2, seed=EVAL_SEED, split="test",
            name="gsm_symbolic-heldout", show_progress=False,
        )  # fmt: skip
        heldout = [p for p in ids_of(held.dataset_id) if question_key(p.question) not in seen]
    gsm = import_gsm8k(
        session, DATASETS / "gsm8k" / "test.jsonl", split="test", name="gsm8k-test", show_progress=False
    )
    gsm_ids = [p.id for p in ids_of(gsm.dataset_id)]
    if preset.n_eval_gsm8k > 0:
        gsm_ids = sorted(random.Random(0).sample(gsm_ids, preset.n_eval_gsm8k))
    splits = {"train": [p.id for p in train]}
    if preset.n_eval_gsm8k >= 0:
        splits["gsm8k_test"] = gsm_ids
    if heldout:
        splits["gsm_symbolic"] = [p.id for p in heldout[: preset.n_eval_symbolic]]
    if preset.n_svamp:
        from backend.importers.svamp import import_svamp

        svamp = import_svamp(session, DATASETS / "svamp" / "SVAMP.json", name="svamp", show_progress=False)
        splits["svamp"] = [p.id for p in ids_of(svamp.dataset_id)][: preset.n_svamp]
    dropped = preset.n_eval_symbolic * 2 - len(heldout)
    log(f"data: {len(train)} training problems, held-out gsm_symbolic {len(splits.get('gsm_symbolic', []))} "
        f"({dropped} generated questions also in training removed), gsm8k test {len(gsm_ids)}")  # fmt: skip
    return splits


def frozen_set(session: Any, name: str, rationale_ids: list[int]) -> int:
    from backend.curation import create_set, freeze

    curated = create_set(session, name=name, picks=rationale_ids)
    assert curated.id is not None
    freeze(session, set_id=curated.id)
    return curated.id


def reference_rationales(session: Any, problem_ids: list[int]) -> list[int]:
    from sqlmodel import col, select

    from db.models import Rationale, RationaleSource

    query = select(Rationale.id).where(
        col(Rationale.problem_id).in_(problem_ids), Rationale.source == RationaleSource.reference
    )
    return list(session.exec(query.order_by(col(Rationale.id))).all())


def teacher_sub_questions(engine: Any, preset: Preset, train_ids: list[int]) -> dict[str, Any]:
    """The app's teacher writes a sub-question for every reference step (rationalize); checked after."""
    from sqlmodel import Session, col, select

    from backend.filters import ProblemFilter
    from backend.jobs.runner import run_job
    from backend.rationales import steps_from_content
    from backend.subquestion_checks import issue_counts, rationale_issues
    from backend.teacher.job import GenerationConfig, start_generation
    from db.models import Problem, Rationale, Revision, TeacherRun

    started = time.monotonic()
    with Session(engine) as session:
        config = GenerationConfig(
            backend=preset.teacher_backend, mode="rationalize", dataset=TRAIN_DATASET,
            problem_filter=ProblemFilter(ids=train_ids), name="ladder-rationalize",
        )  # fmt: skip
        job = start_generation(session, config=config)
    assert job.id is not None
    if run_job(engine, job.id) != "succeeded":
        raise RuntimeError(f"the rationalize run failed; see `socratic-studio jobs show {job.id}`")
    with Session(engine) as session:
        rows = session.exec(
            select(Rationale, Problem.question, Revision.content)
            .join(Problem, col(Problem.id) == Rationale.problem_id)
            .join(Revision, (col(Revision.rationale_id) == Rationale.id) & (col(Revision.number) == 1))
            .join(TeacherRun, col(TeacherRun.id) == Rationale.run_id)
            .where(TeacherRun.name == "ladder-rationalize")
            .order_by(col(Rationale.id))
        ).all()
    rationales = [(r.id, q, steps_from_content(content)) for r, q, content in rows if r.num_steps]
    clean = [rid for rid, q, steps in rationales if not any(rationale_issues(q, steps))]
    counts = issue_counts([(q, steps) for _, q, steps in rationales])
    log(
        f"teacher: {len(rationales)} rationalized, {len(clean)} with every sub-question clean; {dict(counts)}"
    )
    return {
        "all": [rid for rid, _, _ in rationales],
        "clean": clean,
        "issue_counts": dict(counts),
        "seconds": round(time.monotonic() - started, 1),
    }


if __name__ == "__main__":
    from bench.ladder_run import main

    sys.exit(main())
