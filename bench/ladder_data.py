"""The ladder's problems: training problems, the held-out sets judging them, the teacher's sub-questions.

Held-out sets, reported apart (each name is the `dataset` of a results row):
  gsm_symbolic_seen    new numbers and names in templates the students trained on
  gsm_symbolic_unseen  templates never trained on (a split by reasoning-gym generator id)
  gsm8k_test           GSM8K test (all or a fixed subset); gsm8k_test_clean: less the questions that the
                       contamination filter finds in the training problems (the template-source questions)
  svamp                SVAMP, a fixed subset
  dev_*                the development split: problems of the training distribution never trained on, to
                       choose recipes with; only `--dev` evaluates them, so the recorded sets stay unlooked-at
Near-duplicates (the same template and the same numbers, other names or units) of any training item are
removed from every held-out set.
"""

import random
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.ladder_presets import (
    DEV_SEED,
    EVAL_SEED,
    GSM8K_TEST,
    GSM8K_TRAIN,
    SVAMP,
    TRAIN_DATASET,
    TRAIN_SEED,
    Preset,
    datasets_root,
    log,
)

# (training questions, evaluation questions) -> one flag per evaluation question: seen in training.
ContaminationFilter = Callable[[Sequence[str], Sequence[str]], list[bool]]


def overlap_filter(train: Sequence[str], questions: Sequence[str]) -> list[bool]:
    """The product's contamination check (masked n-gram overlap), as the ladder's default filter."""
    from backend.evaluation.contamination import OverlapIndex

    index = OverlapIndex(train)
    return [index.overlap(question).seen() for question in questions]


def question_key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def curated_for_training(problem: Any) -> bool:
    """Templates whose every reference step states its arithmetic: a step is one calculation."""
    steps = problem.gold_steps or []
    return 2 <= len(steps) <= 8 and all("=" in (step.get("text") or "") for step in steps)


def template_ids(size: int, seed: int) -> list[int]:
    """The reasoning-gym gsm_symbolic generator (template) of each item index: its metadata omits it, but
    the dataset draws it from its seed before generating any item."""
    import reasoning_gym

    return list(reasoning_gym.create_dataset("gsm_symbolic", size=size, seed=seed).task_indices)


def template_of(problem: Any, templates: dict[int, list[int]]) -> int | None:
    """A gsm_symbolic problem's template, from its external id "seed-index"."""
    seed, _, index = str(problem.external_id).partition("-")
    ids = templates.get(int(seed)) if seed.isdigit() else None
    return ids[int(index)] if ids is not None and index.isdigit() else None


def near_duplicate_key(problem: Any, template: int | None) -> tuple[Any, ...]:
    """Template and numbers, never names or units: two items of one template with the same numbers are
    one problem for a student. Problems without a template fall back to their normalised text."""
    variables = (problem.meta or {}).get("variables")
    if template is None or not isinstance(variables, dict):
        return ("text", question_key(problem.question))
    numbers = sorted(
        (name, value) for name, value in variables.items() if isinstance(value, int | float)
    )  # fmt: skip
    return ("template", template, tuple(numbers))


def held_out_template(template: int | None, preset: Preset) -> bool:
    every = preset.templates_held_out
    return every > 0 and template is not None and template % every == 0


def _problems(session: Any, dataset_id: int) -> list[Any]:
    from sqlmodel import col, select

    from db.models import Problem

    query = select(Problem).where(Problem.dataset_id == dataset_id).order_by(col(Problem.id))
    return list(session.exec(query).all())


def _symbolic(session: Any, size: int, seed: int, split: str, name: str) -> list[Any]:
    from backend.importers.reasoning_gym import import_reasoning_gym

    report = import_reasoning_gym(
        session, "gsm_symbolic", size=size, seed=seed, split=split, name=name, show_progress=False
    )
    return _problems(session, report.dataset_id)


def training_problems(
    session: Any, preset: Preset, templates: dict[int, list[int]]
) -> tuple[list[Any], list[Any], list[Any]]:
    """(training problems, the pool they were drawn from, development problems)."""
    from backend.importers.gsm8k import import_gsm8k

    if preset.train_source == "gsm8k":  # GSM8K train's gold solutions, as the papers train
        path = datasets_root() / GSM8K_TRAIN
        report = import_gsm8k(session, path, name=TRAIN_DATASET, show_progress=False)
        rows = _problems(session, report.dataset_id)
        return rows[: preset.n_train], rows[: preset.n_train], rows[preset.n_train :][: preset.n_dev]
    templates[TRAIN_SEED] = template_ids(preset.pool, TRAIN_SEED)
    pool = _symbolic(session, preset.pool, TRAIN_SEED, "train", TRAIN_DATASET)
    trainable = [p for p in pool if not held_out_template(template_of(p, templates), preset)]
    train = [p for p in trainable if curated_for_training(p)][: preset.n_train]
    dev: list[Any] = []
    if preset.n_dev:
        templates[DEV_SEED] = template_ids(preset.n_dev * 2, DEV_SEED)
        dev = _symbolic(session, preset.n_dev * 2, DEV_SEED, "validation", "gsm_symbolic-dev")
    return train, pool, dev


def import_data(
    session: Any, preset: Preset, *, contamination_filter: ContaminationFilter | None = overlap_filter
) -> dict[str, list[int]]:
    """Problem ids of the training problems and of each held-out set (see the module's docstring)."""
    from backend.importers.gsm8k import import_gsm8k

    templates: dict[int, list[int]] = {}
    train, pool, dev = training_problems(session, preset, templates)
    trained_templates = {template_of(p, templates) for p in train} - {None}
    seen = {near_duplicate_key(p, template_of(p, templates)) for p in pool}

    def fresh(problems: list[Any]) -> list[Any]:
        kept, keys = [], set(seen)
        for problem in problems:
            key = near_duplicate_key(problem, template_of(problem, templates))
            if key not in keys:
                kept.append(problem)
                keys.add(key)
        return kept

    splits: dict[str, list[int]] = {"train": [p.id for p in train]}
    if dev:
        splits["dev_" + ("gsm8k_train" if preset.train_source == "gsm8k" else "gsm_symbolic")] = [
            p.id for p in fresh(dev)[: preset.n_dev]
        ]
    if preset.n_eval_symbolic:
        templates[EVAL_SEED] = template_ids(preset.n_eval_symbolic, EVAL_SEED)
        held = fresh(_symbolic(session, preset.n_eval_symbolic, EVAL_SEED, "test", "gsm_symbolic-heldout"))
        known = [p for p in held if template_of(p, templates) in trained_templates]
        splits["gsm_symbolic_seen"] = [p.id for p in known]
        splits["gsm_symbolic_unseen"] = [p.id for p in held if p not in known]
        if contamination_filter is not None and preset.train_source == "gsm8k":
            # GSM-Symbolic's templates come from GSM8K test, which has near-copies in GSM8K train
            unseen = [p for p in held if p not in known]
            flags = contamination_filter([p.question for p in train], [p.question for p in unseen])
            splits["gsm_symbolic_unseen_clean"] = [
                p.id for p, bad in zip(unseen, flags, strict=True) if not bad
            ]
    if preset.n_eval_gsm8k >= 0:
        path = datasets_root() / GSM8K_TEST
        gsm = _problems(session, import_gsm8k(session, path, split="test", name="gsm8k-test",
                                              show_progress=False).dataset_id)  # fmt: skip
        if preset.n_eval_gsm8k > 0:
            gsm = sorted(random.Random(0).sample(gsm, preset.n_eval_gsm8k), key=lambda p: p.id)
        splits["gsm8k_test"] = [p.id for p in gsm]
        if contamination_filter is not None:  # the template-source questions out
            flags = contamination_filter([p.question for p in train], [p.question for p in gsm])
            splits["gsm8k_test_clean"] = [p.id for p, flagged in zip(gsm, flags, strict=True) if not flagged]
    if preset.n_svamp:
        from backend.importers.svamp import import_svamp

        report = import_svamp(session, datasets_root() / SVAMP, name="svamp", show_progress=False)
        splits["svamp"] = [p.id for p in _problems(session, report.dataset_id)][: preset.n_svamp]
    log("data: " + ", ".join(f"{name} {len(ids)}" for name, ids in splits.items()))
    return splits


def frozen_set(session: Any, name: str, rationale_ids: list[int]) -> int:
    from backend.sets.curation import create_set, freeze

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

    from backend.checks.subquestion_checks import issue_counts, rationale_issues
    from backend.jobs.runner import run_job
    from backend.queries.filters import ProblemFilter
    from backend.rationales import steps_from_content
    from backend.teacher.job import GenerationConfig, start_generation
    from db.models import Problem, Rationale, Revision, TeacherRun

    started = time.monotonic()
    with Session(engine) as session:
        config = GenerationConfig(
            backend=preset.teacher_backend, model=preset.base_model, mode="rationalize",
            dataset=TRAIN_DATASET, problem_filter=ProblemFilter(ids=train_ids), name="ladder-rationalize",
            batch_size=preset.teacher_batch, backend_options={"batch_size": preset.teacher_sequences},
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
    rationales = [(r.id, q, steps_from_content(dict(content))) for r, q, content in rows if r.num_steps]
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
