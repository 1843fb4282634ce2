"""Choosing a model in a page: registered checkpoints or a teacher backend (BACKEND:MODEL)."""

from typing import Any

from sqlmodel import Session

from backend import catalog
from backend.paths import confined_model
from webapp.context import AppContext

DEFAULT_TEACHER_SPEC = "transformers:default"


def model_choices(session: Session) -> list[tuple[str, str]]:
    """Checkpoints by id (newest first), then the default teacher; values are what `model_spec` reads."""
    models = [(label, str(checkpoint_id)) for label, checkpoint_id in catalog.checkpoint_choices(session)]
    models.append((f"teacher {DEFAULT_TEACHER_SPEC}", DEFAULT_TEACHER_SPEC))
    return models


def model_spec(app: AppContext, session: Session, text: Any) -> dict[str, Any]:
    """A checkpoint id/name or BACKEND:MODEL as a spec; a local folder must be below the model roots.

    Raises LookupError or PathNotAllowed (a ValueError) with a message naming what is wrong.
    """
    from backend.evaluation.socratic import parse_model_spec

    value = str(text or "").strip()
    if not value:
        return {}
    spec = parse_model_spec(session, value)
    if "model" in spec:
        spec["model"] = confined_model(str(spec["model"]), roots=app.model_roots)
    return spec
