"""The step-through model picker: each model named by what it is ("demo-decomposer: decomposer, trained
on 300 problems, 41% held-out") from its training run and its latest finished evaluation, the default
teacher and the configured teacher endpoints; and which pair to offer first."""

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from backend.model_ref import DEFAULT_MODEL
from db.models import CuratedItem, EvalRun, JobStatus, ModelCheckpoint, Rationale, StudentKind, TrainingRun
from db.settings import Settings

STEP_ROLES = (StudentKind.decomposer, StudentKind.solver, StudentKind.unified)
DEMO_PREFIX = "demo-"  # checkpoints the "Build the demo students" chain registers


@dataclass(frozen=True)
class Picker:
    choices: list[tuple[str, str]]  # (label, value that backend.model_ref resolves)
    decomposer: str | None  # offered first
    solver: str | None

    @property
    def has_students(self) -> bool:
        return self.decomposer is not None and self.solver is not None


def trained_on(session: Session, run: TrainingRun | None) -> int | None:
    """Distinct problems in the training run's frozen set."""
    if run is None:
        return None
    count = session.exec(
        select(func.count(func.distinct(Rationale.problem_id)))
        .select_from(CuratedItem)
        .join(Rationale, col(Rationale.id) == CuratedItem.rationale_id)
        .where(CuratedItem.set_id == run.set_id)
    ).one()
    return int(count)


def held_out_accuracy(session: Session, checkpoint_id: int) -> float | None:
    """Accuracy of the latest finished evaluation that used the checkpoint (as decomposer or solver)."""
    runs = session.exec(
        select(EvalRun).where(EvalRun.status == JobStatus.succeeded).order_by(col(EvalRun.id).desc())
    ).all()
    for run in runs:
        used = [spec.get("checkpoint_id") for spec in (run.decomposer, run.solver) if isinstance(spec, dict)]
        if checkpoint_id in used and run.n_problems:
            return run.n_correct / run.n_problems
    return None


def checkpoint_label(session: Session, checkpoint: ModelCheckpoint) -> str:
    run = session.get(TrainingRun, checkpoint.training_run_id) if checkpoint.training_run_id else None
    parts = [str(checkpoint.role)]
    problems = trained_on(session, run)
    if problems is not None:
        parts.append(f"trained on {problems} problems")
    accuracy = held_out_accuracy(session, checkpoint.id or 0)
    parts.append(f"{accuracy:.0%} held-out" if accuracy is not None else "not evaluated")
    return f"{checkpoint.name}: {', '.join(parts)}"


def _first(checkpoints: list[ModelCheckpoint], role: StudentKind) -> str | None:
    """The demo pair first, else the newest checkpoint of the role (a unified model plays both)."""
    fitting = [c for c in checkpoints if c.role in (role, StudentKind.unified)]
    fitting.sort(key=lambda c: (not c.name.startswith(DEMO_PREFIX), -(c.id or 0)))
    return str(fitting[0].id) if fitting else None


def picker(session: Session, settings: Settings) -> Picker:
    checkpoints = list(
        session.exec(
            select(ModelCheckpoint)
            .where(col(ModelCheckpoint.role).in_(STEP_ROLES))
            .order_by(col(ModelCheckpoint.id).desc())
        ).all()
    )
    choices = [(checkpoint_label(session, c), str(c.id)) for c in checkpoints]
    choices.append(
        ("default teacher: SmolLM2-135M-Instruct (embedded; slow, weak at arithmetic)", DEFAULT_MODEL)
    )
    choices += [(f"teacher endpoint {e.name} ({e.model})", e.name) for e in settings.teacher_endpoints]
    return Picker(
        choices, _first(checkpoints, StudentKind.decomposer), _first(checkpoints, StudentKind.solver)
    )
