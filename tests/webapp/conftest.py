"""Fixtures for the web app's handler tests: an AppContext on a migrated temporary database, users, data."""

from pathlib import Path

import gradio as gr
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models import Rationale, User
from db.settings import Settings
from tests.webapp.seed import make_users, seed_rationales
from webapp.context import AppContext


def make_settings(home: Path, *, auth: bool) -> Settings:
    return Settings(home=home, database_url="", auth=auth, model_roots=[])


@pytest.fixture
def app(engine: Engine, tmp_path: Path) -> AppContext:
    """Login off: every request acts as the local admin."""
    return AppContext(engine=engine, settings=make_settings(tmp_path / "home", auth=False))


@pytest.fixture
def auth_app(engine: Engine, tmp_path: Path) -> AppContext:
    """Login on: the request's username decides who acts."""
    return AppContext(engine=engine, settings=make_settings(tmp_path / "home", auth=True))


@pytest.fixture
def users(session: Session) -> dict[str, User]:
    return make_users(session)


@pytest.fixture
def rationales(session: Session) -> list[Rationale]:
    return seed_rationales(session)


def as_user(name: str | None) -> gr.Request:
    """The request Gradio hands a handler for a logged-in user (None: nobody logged in)."""
    return gr.Request(username=name)
