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
