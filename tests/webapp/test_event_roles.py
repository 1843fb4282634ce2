"""Every event of the app has a role decision and the server enforces it. The test walks the events
registered on the Blocks (not a hand-kept list) and calls each through Gradio's own call path as nobody,
a viewer, an annotator and an admin: a role below the declared one is refused before the handler runs,
and the declared role itself is not refused (the declaration is the least role that may act).

An event added without a decision fails `test_every_event_has_a_role_decision` with its name; declare
it with `@needs(Role.viewer | Role.annotator | Role.admin)` from webapp.roles on its handler."""

import inspect
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio.context import LocalContext
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models import Role
from tests.webapp.conftest import make_settings
from tests.webapp.seed import make_users, seed_rationales
from webapp import strings
from webapp.app import build_app
from webapp.roles import declared_role, enforced_role, event_label, events, undeclared

USERS: list[tuple[str | None, int]] = [(None, -1), ("victor", 0), ("alice", 1), ("admin", 2)]
RANK = {Role.viewer: 0, Role.annotator: 1, Role.admin: 2}


@pytest.fixture
def blocks(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> gr.Blocks:
    with Session(engine) as session:
        make_users(session)
        seed_rationales(session)
    monkeypatch.setattr("webapp.context.spawn_job", lambda *args, **kwargs: None)  # no worker processes
    return build_app(engine, make_settings(tmp_path / "home", auth=True))


def test_every_event_has_a_role_decision(blocks: gr.Blocks) -> None:
    assert len(events(blocks)) > 30  # the walk sees the whole app
    missing = undeclared(blocks)
    assert not missing, (
        "events without a role decision; put @needs(Role.viewer | Role.annotator | Role.admin) from "
        "webapp.roles on each handler (the least role that may act):\n  " + "\n  ".join(missing)
    )


def refused_for_role(block_fn: Any, username: str | None) -> bool:
    """Call the event's guarded function as `username` with empty inputs, as Gradio does (the request in
    LocalContext); True when the call was refused for the role. Called directly rather than through
    Blocks.call_function, whose input preprocessing can fail first and hide the check."""
    token = LocalContext.request.set(gr.Request(username=username))
    try:
        result = block_fn.fn(*([None] * len(block_fn.inputs)))
        if inspect.isgenerator(result):
            next(result, None)
    except gr.Error as error:
        return error.title == strings.PERMISSION_TITLE
    except Exception:  # empty inputs upset many handlers; past the role check is all that counts here
        return False
    finally:
        LocalContext.request.reset(token)
    return False


def test_every_event_refuses_the_roles_below_its_own(blocks: gr.Blocks) -> None:
    wrong = []
    for block_fn in events(blocks):
        role = enforced_role(block_fn.fn)
        assert role is not None, f"{event_label(block_fn)} is not guarded"
        assert declared_role(block_fn.fn) in (None, role), event_label(block_fn)
        for username, rank in USERS:
            refused = refused_for_role(block_fn, username)
            if refused != (rank < RANK[role]):
                wrong.append(f"{event_label(block_fn)} needs {role}: as {username} refused={refused}")
    assert not wrong, "\n".join(wrong)
