"""Choosing a model in a page: what backend.model_ref resolves, and who may run what.

The lists offer registered checkpoints, the default teacher and the configured teacher endpoints: what
an annotator or admin has made available. Anyone may run those; typing anything else (a folder, a
`vllm:` backend choice, options) needs the annotator role, and every spec a browser sends back (the
step-through state) is checked again before a model runs.
"""

from collections.abc import Mapping
from typing import Any

import gradio as gr
from sqlmodel import Session

from backend import catalog, model_ref
from backend.auth import has_role
from db.models import Role, User
from db.settings import Settings
from webapp import strings
from webapp.context import AppContext, user_error

DEFAULT_TEACHER_SPEC = "transformers:default"
TYPED_SPEC_NEEDS = (
    "{what} is not one of the offered models: typing a model needs the annotator role "
    "({user} is a {role}); choose a model from the list"
)


def model_choices(session: Session, settings: Settings | None = None) -> list[tuple[str, str]]:
    """Checkpoints by id (newest first), the default teacher, then configured teacher endpoints; values
    are what `model_spec` reads."""
    models = [(label, str(checkpoint_id)) for label, checkpoint_id in catalog.checkpoint_choices(session)]
    models.append((f"teacher {DEFAULT_TEACHER_SPEC}", DEFAULT_TEACHER_SPEC))
    for endpoint in settings.teacher_endpoints if settings else []:
        models.append((f"teacher endpoint {endpoint.name} ({endpoint.model})", endpoint.name))
    return models


def _allowed(ref: model_ref.ModelRef, user: User | None, what: str) -> None:
    if user is None or ref.offered or has_role(user, Role.annotator):
        return
    message = TYPED_SPEC_NEEDS.format(what=what, user=user.username, role=user.role)
    raise user_error(message, title=strings.PERMISSION_TITLE)


def model_spec(app: AppContext, session: Session, text: Any, user: User | None = None) -> dict[str, Any]:
    """What the user picked or typed as a stored spec ({} for nothing); a folder must be below the model
    roots. With `user`, a viewer may only use the offered models.

    Raises LookupError or ValueError (PathNotAllowed) with a message naming what is wrong, or gr.Error.
    """
    value = str(text or "").strip()
    if not value:
        return {}
    ref = model_ref.resolve(session, value, settings=app.settings)
    _allowed(ref, user, repr(value))
    return ref.to_spec()


def checked_specs(app: AppContext, request: gr.Request | None, *specs: Mapping[str, Any]) -> None:
    """Specs that came back from the browser, checked as if typed now by the acting user (gr.Error if not)."""
    user = app.current_user(request)
    with app.session() as session:
        for spec in specs:
            try:
                ref = model_ref.from_spec(session, spec, settings=app.settings)
            except (ValueError, LookupError) as error:
                raise user_error(str(error)) from error
            _allowed(ref, user, "this model")
