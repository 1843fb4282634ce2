"""Demo data for a fresh installation: 50 reasoning-gym gsm_symbolic problems with reference rationales.

Generated offline and deterministically (seed 42), so the app has something to show on first start.
"""

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.importers import ImportFailure, import_reasoning_gym
from db.models import Dataset

DEMO_GENERATOR = "gsm_symbolic"
DEMO_DATASET = "demo-gsm_symbolic"
DEMO_SIZE = 50
DEMO_SEED = 42


def ensure_demo_data(engine: Engine) -> bool:
    """Import the demo dataset when the database holds no dataset yet; True when it imported it."""
    with Session(engine) as session:
        if session.exec(select(Dataset.id).limit(1)).first() is not None:
            return False
        try:
            import_reasoning_gym(
                session,
                DEMO_GENERATOR,
                size=DEMO_SIZE,
                seed=DEMO_SEED,
                split="train",
                name=DEMO_DATASET,
                show_progress=False,
            )
        except ImportFailure:
            # Another process (a second server start) imported it first: its transaction won.
            if session.exec(select(Dataset.id).where(Dataset.name == DEMO_DATASET)).first() is None:
                raise
            return False
    return True


HELD_OUT_SEED = DEMO_SEED + 1  # another seed: other items (the same template may repeat a question)
HELD_OUT_SPLIT = "test"


def ensure_demo_problems(session: Session, *, train: int, held_out: int) -> list[int]:
    """The demo dataset with at least `train` train problems and held-out ones; returns the ids of up to
    `held_out` held-out problems whose question is no train question (gsm_symbolic items from different
    seeds can be the same question). Idempotent: items already imported are kept as they are."""
    from sqlmodel import col

    from db.models import Problem

    import_reasoning_gym(session, DEMO_GENERATOR, size=train, seed=DEMO_SEED, split="train",
                         name=DEMO_DATASET, show_progress=False)  # fmt: skip
    spare = held_out + held_out // 4 + 5  # room for the duplicates dropped below
    import_reasoning_gym(session, DEMO_GENERATOR, size=spare, seed=HELD_OUT_SEED, split=HELD_OUT_SPLIT,
                         name=DEMO_DATASET, show_progress=False)  # fmt: skip
    dataset = session.exec(select(Dataset).where(Dataset.name == DEMO_DATASET)).one()
    problems = session.exec(
        select(Problem).where(Problem.dataset_id == dataset.id).order_by(col(Problem.id))
    ).all()
    seen = {p.question.strip() for p in problems if p.split == "train"}
    kept = [p.id for p in problems if p.split == HELD_OUT_SPLIT and p.question.strip() not in seen]
    return [problem_id for problem_id in kept if problem_id is not None][:held_out]
