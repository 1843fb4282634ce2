"""Roles are checked on the server: with login on, a viewer calling the app's API directly (gradio_client,
no browser, no hidden buttons) is refused and nothing changes; an annotator's same call goes through."""

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from db.models import CuratedSet, Rationale, Review, Revision
from tests.webapp.conftest import make_settings
from tests.webapp.seed import PASSWORD, make_users, seed_rationales
from webapp.app import build_app, launch_options

STEPS = {"headers": ["sub_question", "text"], "data": [["Vandalised?", "vandalised"]]}
QUEUE = ("unreviewed", False)  # queue mode, stop at the first error
LABELS = '{"ratings": [1], "step_tags": [[]]}'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(engine: Engine, tmp_path: Path) -> Iterator[str]:
    with Session(engine) as session:
        make_users(session)
        seed_rationales(session)
    settings = make_settings(tmp_path / "home", auth=True)
    blocks = build_app(engine, settings)
    blocks.queue()
    _, url, _ = blocks.launch(
        server_name="127.0.0.1",
        server_port=_free_port(),
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(engine, settings),
    )
    try:
        yield url
    finally:
        blocks.close()


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Revision)).one(),
            session.exec(select(func.count()).select_from(Review)).one(),
            session.exec(select(func.count()).select_from(CuratedSet)).one(),
            tuple(
                session.exec(
                    select(Rationale.version, Rationale.review_status).order_by(col(Rationale.id))
                ).all()
            ),
        )


def test_a_viewer_cannot_edit_or_review_through_the_api(server: str, engine: Engine) -> None:
    before = _snapshot(engine)
    viewer = Client(server, auth=("victor", PASSWORD), verbose=False)
    current = {"rationale_id": 1, "version": 1}
    calls: list[tuple[str, tuple[Any, ...]]] = [
        ("/save_edit", (current, STEPS, "1", "")),
        ("/accept", (current, STEPS, "1", LABELS, [], "", False, *QUEUE)),
        ("/reject", (current, STEPS, "1", LABELS, [], "", False, *QUEUE)),
        ("/revert", (current, 1)),
        ("/create_set", ("", True, "viewer-set", "")),
        ("/bulk_review", ()),
    ]
    for api_name, args in calls:
        with pytest.raises(AppError, match="role"):
            viewer.predict(*args, api_name=api_name)
    assert _snapshot(engine) == before

    annotator = Client(server, auth=("alice", PASSWORD), verbose=False)
    annotator.predict(current, STEPS, "1", LABELS, [], "", False, *QUEUE, api_name="/accept")
    with Session(engine) as session:
        rationale = session.get(Rationale, 1)
        assert (
            rationale is not None
            and rationale.review_status == "accepted"
            and rationale.current_revision == 2
        )


def test_wrong_passwords_get_no_api_access(server: str) -> None:
    with pytest.raises(Exception, match=r"(?i)login|auth|credentials|401"):
        Client(server, auth=("alice", "not the password"), verbose=False)
