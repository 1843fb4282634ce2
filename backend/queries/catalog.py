"""Small lookups the pages offer as choices: datasets, runs, users, sets, checkpoints, evaluations.

Each returns (label, id) pairs, newest first where that is what a user looks for; labels carry the
names users typed, so the web layer shows them only in plain-text components.
"""

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from backend.queries.filters import RationaleFilter
from db.models import (
    CuratedSet,
    Dataset,
    EvalRun,
    ModelCheckpoint,
    Problem,
    Rationale,
    StudentKind,
    TeacherRun,
    TrainingRun,
    User,
)

Choice = tuple[str, int]


def dataset_choices(session: Session) -> list[Choice]:
    rows = session.exec(select(Dataset.name, Dataset.id).order_by(col(Dataset.name))).all()
    return [(name, dataset_id) for name, dataset_id in rows if dataset_id is not None]


def split_choices(session: Session) -> list[str]:
    return list(session.exec(select(Problem.split).distinct().order_by(col(Problem.split))).all())


def teacher_run_choices(session: Session) -> list[Choice]:
    rows = session.exec(select(TeacherRun).order_by(col(TeacherRun.id).desc())).all()
    return [(f"#{run.id} {run.name} ({run.model}, {run.mode})", run.id) for run in rows if run.id is not None]


def user_choices(session: Session) -> list[Choice]:
    rows = session.exec(select(User).order_by(col(User.username))).all()
    return [(f"{user.username} ({user.role})", user.id) for user in rows if user.id is not None]


def list_sets(session: Session, *, frozen_only: bool = False) -> list[CuratedSet]:
    query = select(CuratedSet).order_by(col(CuratedSet.id).desc())
    if frozen_only:
        query = query.where(col(CuratedSet.frozen_at).is_not(None))
    return list(session.exec(query).all())


def set_choices(session: Session, *, frozen_only: bool = False) -> list[Choice]:
    choices = []
    for curated_set in list_sets(session, frozen_only=frozen_only):
        state = "frozen" if curated_set.frozen_at else "draft"
        if curated_set.id is not None:
            choices.append((f"#{curated_set.id} {curated_set.name} ({state})", curated_set.id))
    return choices


def checkpoint_choices(session: Session, *, role: StudentKind | None = None) -> list[Choice]:
    query = select(ModelCheckpoint).order_by(col(ModelCheckpoint.id).desc())
    if role is not None:
        query = query.where(ModelCheckpoint.role == role)
    rows = session.exec(query).all()
    return [(f"#{ckpt.id} {ckpt.name} ({ckpt.role})", ckpt.id) for ckpt in rows if ckpt.id is not None]


def training_run_choices(session: Session) -> list[Choice]:
    rows = session.exec(select(TrainingRun).order_by(col(TrainingRun.id).desc())).all()
    return [
        (f"#{run.id} {run.name} ({run.student_kind}, {run.status})", run.id)
        for run in rows
        if run.id is not None
    ]


def list_eval_runs(session: Session, *, limit: int = 100) -> list[EvalRun]:
    return list(session.exec(select(EvalRun).order_by(col(EvalRun.id).desc()).limit(limit)).all())


def eval_run_choices(session: Session) -> list[Choice]:
    rows = list_eval_runs(session)
    return [
        (f"#{run.id} {run.name} ({run.method}, {run.n_correct}/{run.n_problems} correct)", run.id)
        for run in rows
        if run.id is not None
    ]


# Splits no student trains on: Step through lists their problems first, so that a class sees a problem
# the students never saw (the demo dataset holds both its train and its held-out problems).
HELD_OUT_SPLITS = ("test", "validation", "dev")


def problem_choices(
    session: Session, *, dataset_id: int | None, split: str | None, limit: int = 200
) -> list[Choice]:
    """The first problems of a dataset (question cut short), held-out splits first, each labelled with
    its split, for the step-through picker."""
    held_out_first = case((col(Problem.split).in_(HELD_OUT_SPLITS), 0), else_=1)
    query = (
        select(Problem.id, Problem.external_id, Problem.split, Problem.question)
        .order_by(held_out_first, col(Problem.id))
        .limit(limit)
    )
    if dataset_id is not None:
        query = query.where(Problem.dataset_id == dataset_id)
    if split:
        query = query.where(Problem.split == split)
    rows = session.exec(query).all()
    return [
        (f"#{pid} [{problem_split}] {ext}: {question[:70]}", pid)
        for pid, ext, problem_split, question in rows
        if pid is not None
    ]


def count_rationales(session: Session, *, rationale_filter: RationaleFilter) -> int:
    query = rationale_filter.apply(select(func.count()).select_from(Rationale))
    return int(session.exec(query).one())


def teacher_runs_with_counts(session: Session, *, limit: int = 30) -> list[tuple[TeacherRun, int]]:
    """The newest teacher runs with how many rationales each has stored so far."""
    runs = list(session.exec(select(TeacherRun).order_by(col(TeacherRun.id).desc()).limit(limit)).all())
    ids = [run.id for run in runs]
    counts = dict(
        session.exec(
            select(Rationale.run_id, func.count())
            .where(col(Rationale.run_id).in_(ids))
            .group_by(col(Rationale.run_id))
        ).all()
    )
    return [(run, int(counts.get(run.id, 0))) for run in runs]


def first_problem(session: Session, *, dataset_id: int | None, split: str | None) -> Problem | None:
    """The first problem (by id) a generation over this dataset and split would see."""
    from backend.queries.filters import ProblemFilter

    return session.scalars(ProblemFilter(dataset_id=dataset_id, split=split or None, limit=1).query()).first()
