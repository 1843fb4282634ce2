"""`socratic-studio serve`: its options, and a clear error (no traceback) when the port is taken."""

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from webapp.cli.main import app


def test_serve_help_lists_the_options() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--no-demo", "--no-model"):
        assert option in result.output


def test_a_busy_port_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app,
            [
                "--db",
                f"sqlite:///{tmp_path / 'studio.db'}",
                "serve",
                "--no-demo",
                "--no-model",
                "--port",
                str(port),
            ],
        )
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
