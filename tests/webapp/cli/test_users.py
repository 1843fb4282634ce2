"""`socratic-studio users`: add, list, set-role, disable, enable, remove and passwd, and their refusals."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from backend.access import activity, auth
from db.engine import open_database
from db.settings import get_settings
from webapp.cli.main import app

runner = CliRunner()
PASSWORD = "correct horse"


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database with an admin (root) and an annotator (alice)."""
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    for name, role in (("root", "admin"), ("alice", "annotator")):
        invoke(url, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
    yield url
    get_settings.cache_clear()


def invoke(url: str, *args: str, stdin: str | None = None, ok: bool = True) -> str:
    result = runner.invoke(app, ["--db", url, *args], input=stdin)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def _session(url: str) -> Session:
    return Session(open_database(url))


def test_each_command_has_help_with_an_example():
    for command in ("set-role", "disable", "enable", "remove", "passwd"):
        text = runner.invoke(app, ["users", command, "--help"], terminal_width=200).output
        assert f"Example: socratic-studio users {command}" in text, command


def test_set_role_disable_enable_and_list(url: str):
    assert "alice is now admin" in invoke(url, "users", "set-role", "alice", "admin")
    assert "disabled alice" in invoke(url, "users", "disable", "alice")
    line = next(line for line in invoke(url, "users", "list").splitlines() if "alice" in line)
    assert "admin" in line and "disabled" in line
    invoke(url, "users", "enable", "alice")
    with _session(url) as session:
        assert auth.authenticate(session, username="alice", password=PASSWORD) is not None
        actions = [(e.username, e.action) for e in activity.recent(session, limit=10)]
    assert actions[0] == (activity.COMMAND_LINE, "account enabled")
    assert (activity.COMMAND_LINE, "account added") in actions


def test_remove_asks_first_and_keeps_the_name_taken(url: str):
    assert "nothing removed" in invoke(url, "users", "remove", "alice", stdin="n\n", ok=False)
    assert "removed alice" in invoke(url, "users", "remove", "alice", stdin="y\n")
    assert "removed" in invoke(url, "users", "list")
    output = invoke(url, "users", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n", ok=False)
    assert "already exists" in output


def test_passwd_from_a_prompt_and_from_stdin(url: str):
    invoke(url, "users", "passwd", "alice", stdin="another one\nanother one\n")
    with _session(url) as session:
        assert auth.authenticate(session, username="alice", password="another one") is not None
    invoke(url, "users", "passwd", "alice", "--password-stdin", stdin="third password\n")
    with _session(url) as session:
        assert auth.authenticate(session, username="alice", password="third password") is not None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("set-role", "zed", "admin"), None, "no user named 'zed'"),
        (("disable", "zed"), None, "no user named 'zed'"),
        (("passwd", "zed", "--password-stdin"), "long enough\n", "no user named 'zed'"),
        (("set-role", "alice", "boss"), None, "'boss' is not one of"),
        (("passwd", "alice", "--password-stdin"), "short\n", "at least 8"),
        (("set-role", "root", "viewer"), None, "last admin"),
        (("disable", "root"), None, "last admin"),
        (("remove", "root", "--yes"), None, "last admin"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(url, args, stdin, message):
    output = invoke(url, "users", *args, stdin=stdin, ok=False)
    assert message in output and "Traceback" not in output
    listed = invoke(url, "users", "list")
    assert any("root" in line and "admin" in line and "active" in line for line in listed.splitlines())
    with _session(url) as session:
        assert auth.authenticate(session, username="alice", password=PASSWORD) is not None
