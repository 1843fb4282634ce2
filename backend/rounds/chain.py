"""A round as one job (kind `round`) whose steps are the jobs a user would start by hand:

1. the student samples k rationales for each question of its training set, or for `questions` of them
   drawn with the seed (a teacher run in its own prompt format, `Q: {question}\\nA:`); a finished run
   with the same sampling settings, seed included, is reused (a `distinct` round after a plain one);
2. with `rationalize`, the questions with no correct sample are sampled again with the gold answer as a
   hint (a second teacher run);
3. the samples that reach the gold answer with sound arithmetic (backend.rounds.keep) join the previous
   set's rationales in a new frozen set;
4. the next CoT student trains on it, from the same base model and recipe as the first;
5. the new and the previous student are evaluated on the same problems (the previous student's finished
   evaluation with the same settings is reused: a second round from one student), and compared with an
   exact McNemar test.

Every step's object is named after the round's job (`round-N-...`). A round that is cancelled or fails
and is resumed finds what its steps already made, resumes an unfinished step's job (a teacher run skips
the samples it stored) and starts only what is missing.
"""

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from backend.evaluation.paired import compare_with_clean, describe
from backend.jobs import store
from backend.jobs.chain import Spawn, checkpoint_of, spawner, wait_for_step
from backend.jobs.context import JobContext
from backend.model_ref import get_checkpoint, resolve
from backend.queries.filters import ProblemFilter
from backend.rounds.config import RoundConfig
from backend.rounds.keep import kept_per_question, load_samples, select_kept
from backend.sets import curation
from backend.training.config import FilterPolicy, TrainConfig
from db.models import (
    CuratedSet,
    Dataset,
    EvalRun,
    Job,
    JobKind,
    JobStatus,
    ModelCheckpoint,
    StudentKind,
    TeacherRun,
    TrainingRun,
)

# The CoT student's own prompt (backend.student_formats.cot_prompt), with STaR's hint line when shown.
ROUND_TEMPLATE = "Q: {question}\n{hint}A:"
ROUND_STOP = ["\n\n", "\nQ:"]  # a student that goes on writes itself another question
# Sequences decoded together, while sampling and evaluating (the slots of the refilling loop). A stored
# batch (a teacher batch, an evaluation chunk) holds several slots' worth of texts, so that finished
# slots are refilled rather than the batch draining to its longest text every few problems. Bigger batches
# cost responsiveness: a cancel waits for the batch, a crash loses it.
SLOTS = 64
BATCH_TEXTS = 8 * SLOTS
TOTAL_STEPS = 5


def start_round(session: Session, *, config: RoundConfig, created_by_id: int | None = None) -> Job:
    """The queued round job (the caller spawns it), after checking that its student can sample and that
    its evaluation has problems: a round would otherwise fail at its last step, hours in."""
    previous_run(session, config.student)
    dataset = session.exec(select(Dataset).where(Dataset.name == config.eval_dataset)).first()
    if dataset is None:
        raise LookupError(f"no dataset named {config.eval_dataset!r} to evaluate on")
    chosen = ProblemFilter(dataset_id=dataset.id, split=config.eval_split, limit=1)
    if session.execute(chosen.query()).first() is None:
        raise ValueError(f"dataset {config.eval_dataset!r} has no problems in split {config.eval_split!r}")
    return store.create_job(session, kind=JobKind.round, params=config.to_json(), created_by_id=created_by_id)


def previous_run(session: Session, student: str) -> tuple[ModelCheckpoint, TrainingRun]:
    """The student's checkpoint and the training run that made it (its set, base model and budget)."""
    checkpoint = get_checkpoint(session, name_or_id=student)
    run = session.get(TrainingRun, checkpoint.training_run_id) if checkpoint.training_run_id else None
    if run is None:
        raise ValueError(
            f"checkpoint {checkpoint.name!r} was not trained here: a round needs the set it learned"
        )
    if run.student_kind != StudentKind.cot:
        raise ValueError(
            f"a round samples rationales from a CoT student; {checkpoint.name!r} is {run.student_kind}"
        )
    if not Path(checkpoint.path).is_dir():
        raise LookupError(f"checkpoint {checkpoint.name!r} has no model folder at {checkpoint.path}")
    return checkpoint, run


def _already_running(job_id: int) -> None:
    """A step's job that runs in its own worker already is only waited for."""


class Round:
    """The round's steps, in order; each finds its own earlier work by name before starting anything."""

    def __init__(self, context: JobContext, config: RoundConfig, spawn: Spawn) -> None:
        self.context, self.config, self.spawn = context, config, spawn
        self.prefix = f"round-{context.job_id}"

    def _step(self, number: int, label: str, job_id: int | None = None) -> None:
        self.context.check_cancel()
        where = f" (job #{job_id})" if job_id is not None else ""
        self.context.progress(number - 1, TOTAL_STEPS, f"{number}/{TOTAL_STEPS} {label}{where}", force=True)

    def _run_step(self, number: int, label: str, found: Job | None, start: Callable[[Session], Job]) -> None:
        """Wait for a step's job: the one found (resumed when it failed or was cancelled, left to its own
        worker while it runs) or a new one."""
        spawn = self.spawn
        with Session(self.context.engine) as session:
            if found is None:
                job = start(session)
            elif found.status == JobStatus.succeeded:
                return
            elif found.status == JobStatus.running:  # the round's worker died, the step's did not
                job, spawn = found, _already_running
            elif found.status == JobStatus.queued:
                job = found
            else:
                job = store.reset_for_resume(session, job_id=found.id or 0)
        self._step(number, label, job.id)
        wait_for_step(self.context, job.id or 0, spawn, label)

    def _job_of(self, job_id: int | None) -> Job | None:
        with Session(self.context.engine) as session:
            return session.get(Job, job_id) if job_id is not None else None

    def sample(
        self, number: int, problem_ids: list[int], *, model: str, hinted: bool, max_tokens: int
    ) -> int:
        """A teacher run of the student (`model`: its resolved folder) over these problems; its id."""
        from backend.teacher.config import GenerationConfig
        from backend.teacher.job import finished_twin, start_generation

        name = f"{self.prefix}-{'hinted' if hinted else 'samples'}"
        config = GenerationConfig(
            backend="transformers", model=model, mode="cot", name=name,
            problem_filter=ProblemFilter(ids=problem_ids), samples=self.config.samples,
            temperature=self.config.temperature, seed=self.config.seed + hinted, max_tokens=max_tokens,
            template=ROUND_TEMPLATE, few_shot=[], stop=ROUND_STOP, show_gold=hinted, calculator=True,
            batch_size=max(1, BATCH_TEXTS // self.config.samples), backend_options={"batch_size": SLOTS},
        )  # fmt: skip
        found = self._named(TeacherRun, name)
        label = "the student samples with the gold answer as a hint" if hinted else "the student samples"
        if found is None:
            with Session(self.context.engine) as session:
                twin = finished_twin(session, config)
            if twin is not None and twin.id is not None:  # e.g. a `distinct` round after a plain one
                self._step(number, f"reusing the samples of teacher run #{twin.id}: {label}, same seed")
                return twin.id
        self._run_step(number, label, self._job_of(found.job_id if found else None),
                       lambda session: start_generation(session, config=config))  # fmt: skip
        run = self._named(TeacherRun, name)
        assert run is not None and run.id is not None
        return run.id

    def _named(self, model: Any, name: str) -> Any:
        with Session(self.context.engine) as session:
            return session.exec(
                select(model).where(model.name == name).order_by(col(model.id).desc())
            ).first()

    def freeze(
        self, previous_set_id: int, run_ids: list[int], questions: list[int]
    ) -> tuple[int, dict[str, Any]]:
        """The new frozen set: the previous set's rationales and the kept samples; what was kept."""
        self._step(3, "freezing the kept samples with the previous set")
        name = f"{self.prefix}-set"
        with Session(self.context.engine) as session:
            samples = load_samples(session, run_ids)
            records = curation.frozen_records(session, set_id=previous_set_id)
            previous = [record.rationale_id for record in records]
            selection = select_kept(samples, self.config.keep, records)
            chosen = selection.fresh if self.config.distinct else selection.passed
            kept = [sample.rationale_id for sample in chosen]
            summary = {
                "samples": len(samples),
                "correct": sum(s.correct for s in samples),
                "kept": len(kept),
                "repeats": selection.repeats,
                "distinct": self.config.distinct,
                "questions": len(questions),
                "kept_per_question": kept_per_question([s.problem_id for s in chosen], questions),
            }
            existing = session.exec(select(CuratedSet).where(CuratedSet.name == name)).first()
            if existing is not None and existing.frozen_at is not None:
                return existing.id or 0, summary
            picks = list(dict.fromkeys(previous + kept))
            curated = existing or curation.create_set(
                session, name=name, picks=picks,
                description=f"round #{self.context.job_id}: {len(previous)} from the previous set, "
                f"{len(kept)} samples kept ({self.config.keep})",
            )  # fmt: skip
            frozen = curation.freeze(session, set_id=curated.id or 0)
        return frozen.id or 0, summary

    def train(self, set_id: int, base_model: str) -> int:
        from backend.training.job import start_training

        name = f"{self.prefix}-cot"
        policy = (
            FilterPolicy.balanced if self.config.keep == FilterPolicy.balanced else FilterPolicy.all_correct
        )
        config = TrainConfig(
            set_id=set_id, kind=StudentKind.cot, base_model=base_model, name=name, epochs=self.config.epochs,
            learning_rate=self.config.learning_rate, batch_size=self.config.batch_size, seed=self.config.seed,
            filter_policy=policy,
        )  # fmt: skip
        found = self._named(TrainingRun, name)
        self._run_step(4, "training the next student", self._job_of(found.job_id if found else None),
                       lambda session: start_training(session, config=config)[0])  # fmt: skip
        run = self._named(TrainingRun, name)
        return checkpoint_of(self.context.engine, run.id or 0)

    def evaluate(self, label: str, checkpoint_id: int) -> int:
        from backend.evaluation.config import EvalConfig, EvalMethod
        from backend.evaluation.job import finished_twin, start_evaluation

        name = f"{self.prefix}-{label}"
        config = EvalConfig(
            method=EvalMethod.cot, solver={"checkpoint_id": checkpoint_id},
            dataset_name=self.config.eval_dataset, split=self.config.eval_split, limit=self.config.eval_limit,
            name=name, chunk_size=BATCH_TEXTS // 2, batch_size=SLOTS,
        )  # fmt: skip
        found = self._named(EvalRun, name)
        if found is None and label == "before":
            with Session(self.context.engine) as session:
                twin = finished_twin(session, config)
            if twin is not None and twin.id is not None:  # e.g. a second round from the same student
                self._step(5, f"reusing evaluation #{twin.id} of the {label} student")
                return twin.id
        self._run_step(5, f"evaluating the {label} student", self._job_of(found.job_id if found else None),
                       lambda session: start_evaluation(session, config=config)[0])  # fmt: skip
        run = self._named(EvalRun, name)
        return run.id or 0


def sampled_questions(problem_ids: list[int], config: RoundConfig) -> list[int]:
    """The set's questions the student samples, in id order: all, or `config.questions` of them drawn
    with the round's seed (the same draw when a round resumes, so no finished sample is repeated)."""
    questions = sorted(set(problem_ids))
    if config.questions is None or config.questions >= len(questions):
        return questions
    return sorted(random.Random(config.seed).sample(questions, config.questions))


def run_round_job(context: JobContext, spawn: Spawn | None = None) -> str:
    """The round's worker: each step's job in turn (each spawned as its own worker process)."""
    config = RoundConfig.from_json(context.params)
    steps = Round(context, config, spawn or spawner(context))
    with Session(context.engine) as session:
        checkpoint, run = previous_run(session, config.student)
        questions = sampled_questions(
            [r.problem_id for r in curation.frozen_records(session, set_id=run.set_id)], config
        )
        max_tokens = int((run.hyperparams.get("generation_budget") or {}).get("max_tokens") or 256)
        model = resolve(session, str(checkpoint.id), backend="transformers").model  # the checkpoint's folder
    run_ids = [steps.sample(1, questions, model=model, hinted=False, max_tokens=max_tokens)]
    if config.rationalize:
        with Session(context.engine) as session:
            solved = {s.problem_id for s in load_samples(session, run_ids) if s.correct and s.arithmetic_ok}
        unsolved = [question for question in questions if question not in solved]
        if unsolved:
            run_ids.append(steps.sample(2, unsolved, model=model, hinted=True, max_tokens=max_tokens))
    set_id, kept = steps.freeze(run.set_id, run_ids, questions)
    new_checkpoint = steps.train(set_id, run.base_model)
    before = steps.evaluate("before", checkpoint.id or 0)
    after = steps.evaluate("after", new_checkpoint)
    with Session(context.engine) as session:
        result = {"kept": kept, "set_id": set_id, "checkpoint_id": new_checkpoint} | compare_with_clean(
            session, before, after
        )
    context.progress(TOTAL_STEPS, TOTAL_STEPS, "done", force=True)
    return round_message(result)


def round_message(result: dict[str, Any]) -> str:
    """One paragraph for the job's panel: what was kept, and the paired comparison with its intervals."""
    kept = result["kept"]
    share = ", ".join(
        f"{count} kept {'none' if k == 0 else k}" for k, count in kept["kept_per_question"].items()
    )
    repeats = ""  # rounds finished before the count existed have none
    if "repeats" in kept:
        dropped = ", not kept" if kept.get("distinct") else ""
        repeats = f"; {kept['repeats']} repeat reasoning already in the set{dropped}"
    return (
        f"kept {kept['kept']} of {kept['samples']} samples ({kept['correct']} correct{repeats}) for "
        f"{kept['questions']} questions ({share}); new set #{result['set_id']}, checkpoint "
        f"#{result['checkpoint_id']}. {describe(result)}"
    )
