"""Who acts: the header line, Gradio's login check, server-side role checks, and tab timers."""

import gradio as gr
import pytest
from sqlmodel import Session

from backend.access.auth import create_user
from db.models import Role, User
from tests.webapp.conftest import as_user
from tests.webapp.seed import PASSWORD
from webapp.context import AppContext
from webapp.handlers.session import SessionHandlers, TimerSwitch


def test_login_off_acts_as_the_local_admin(app: AppContext) -> None:
    user = app.require(as_user(None), Role.admin)
    assert user.username == "local" and user.role == "admin"
    assert "local" in SessionHandlers(app).header(as_user(None))


def test_login_on_checks_passwords_and_roles(auth_app: AppContext, users: dict[str, User]) -> None:
    handlers = SessionHandlers(auth_app)
    assert "Signed in as **alice** (annotator)" in handlers.header(as_user("alice"))
    assert auth_app.require(as_user("alice"), Role.annotator).username == "alice"
    with pytest.raises(gr.Error, match="annotator role"):
        auth_app.require(as_user("victor"), Role.annotator)
    with pytest.raises(gr.Error, match="log in"):
        auth_app.require(as_user(None), Role.viewer)


def test_a_username_with_markup_is_shown_inert(auth_app: AppContext, session: Session) -> None:
    create_user(session, username="<b>mallory</b>", role=Role.viewer, password=PASSWORD)
    header = SessionHandlers(auth_app).header(as_user("<b>mallory</b>"))
    assert "<b>" not in header and "&lt;b&gt;mallory&lt;/b&gt;" in header


def test_only_the_shown_tabs_timer_runs() -> None:
    switch = TimerSwitch(["generate", "train"])
    assert [t.active for t in switch.showing("train")()] == [False, True]
    assert [t.active for t in switch.showing("explore")()] == [False, False]
