"""Choosing a model in a page: the offered models, and what the user picked or typed as a stored spec.

The list offers registered checkpoints, the default teacher and the configured teacher endpoints; a
folder below the model roots may be typed. backend.model_ref resolves and checks every reference.
"""

from typing import Any

from sqlmodel import Session

from backend import model_ref
from backend.access.limits import MAX_MODEL_CHARS, check_label
from backend.queries import catalog
from db.settings import Settings
from webapp.context import AppContext

DEFAULT_TEACHER_SPEC = "transformers:default"


def model_choices(session: Session, settings: Settings | None = None) -> list[tuple[str, str]]:
    """Checkpoints by id (newest first), the default teacher, then configured teacher endpoints; values
    are what `model_spec` reads."""
    models = [(label, str(checkpoint_id)) for label, checkpoint_id in catalog.checkpoint_choices(session)]
    models.append((f"teacher {DEFAULT_TEACHER_SPEC}", DEFAULT_TEACHER_SPEC))
    for endpoint in settings.teacher_endpoints if settings else []:
        models.append((f"teacher endpoint {endpoint.name} ({endpoint.model})", endpoint.name))
    return models


def model_text(text: Any, label: str = "the model") -> str:
    """What the user picked or typed, stripped; bounded before a path, query or message sees it
    (InputRefused, a ValueError, names `label`)."""
    return check_label(label, str(text or ""), MAX_MODEL_CHARS).strip()


def model_spec(app: AppContext, session: Session, text: Any) -> dict[str, Any]:
    """What the user picked or typed as a stored spec ({} for nothing); a folder must be below the model
    roots. Raises LookupError or ValueError (PathNotAllowed, InputRefused) naming what is wrong."""
    value = model_text(text)
    if not value:
        return {}
    return model_ref.resolve(session, value, settings=app.settings).to_spec()
