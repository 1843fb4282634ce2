"""The hostile requests of issue 10, sent as a logged-in annotator (and viewer) straight to the app's API
with gradio_client, on a server with login on and a teacher endpoint configured: teacher options that
would send a server secret to a host of the caller's choosing, run remote code in vLLM, or load any model
are refused with a message naming the option; nothing is stored; and no request leaves the machine (a
loopback server stands in for the attacker's host and records whether anyone called it)."""

import html
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from db.models import Job, TeacherRun
from db.settings import TeacherEndpoint
from tests.webapp.conftest import make_settings
from tests.webapp.seed import PASSWORD, make_users, seed_rationales
from webapp.app import build_app, launch_options
from webapp.strings import StepThrough

SECRET_ENV = "SOCRATIC_TEST_SERVER_SECRET"
SECRET = "db-password-the-annotator-wants"
EMPTY_TRACE = {"headers": list(StepThrough.TRACE_HEADERS), "data": []}


class Recorder(BaseHTTPRequestHandler):
    """The attacker's host: records every request (path and Authorization header) and answers 500."""

    seen: list[tuple[str, str]] = []

    def _record(self) -> None:
        Recorder.seen.append((self.path, self.headers.get("Authorization", "")))
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = _record

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[str]:
    Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with Session(engine) as session:
        make_users(session)
        seed_rationales(session)
    lab = TeacherEndpoint(name="lab", base_url="http://127.0.0.1:9/v1", model="smol")
    settings = make_settings(tmp_path / "home", auth=True).model_copy(update={"teacher_endpoints": [lab]})
    (settings.resolved_model_cache / "some-folder").mkdir(parents=True)  # a folder below the model roots
    blocks = build_app(engine, settings)
    blocks.queue()
    _, url, _ = blocks.launch(
        server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True,
        **launch_options(engine, settings),
    )  # fmt: skip
    try:
        yield url
    finally:
        blocks.close()


def _generate(client: Client, backend: str, model: str, options: dict[str, Any]) -> Any:
    # START_FIELDS: backend, model, mode, dataset, split, limit, samples, temperature, show_gold, template,
    # name, options
    arguments = (backend, model, "cot", "toy", "", 2, 1, 0.0, False, "", "", json.dumps(options))
    return client.predict(*arguments, api_name="/start_generation")


def refused(call: Callable[[], Any], message: str) -> None:
    """The call fails with an error whose text (Gradio sends it HTML-escaped) contains `message`."""
    try:
        call()
    except AppError as error:
        assert message in html.unescape(str(error)), str(error)
        return
    pytest.fail(f"accepted; expected a refusal saying {message!r}")


def _stored(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(TeacherRun)).one(),
            session.exec(select(func.count()).select_from(Job)).one(),
        )


def test_teacher_options_cannot_reach_server_secrets_or_code(
    server: str, attacker: str, engine: Engine
) -> None:
    before = _stored(engine)  # the seeded teacher run
    annotator = Client(server, auth=("alice", PASSWORD), verbose=False)
    exfiltrate = {"base_url": attacker, "api_key_env": SECRET_ENV}
    attempts: list[tuple[str, str, dict[str, Any], str]] = [
        ("openai", "lab", exfiltrate, "'base_url' is not allowed"),
        ("openai", "lab", {"api_key_env": SECRET_ENV}, "'api_key_env' is not allowed"),
        ("transformers", "default", exfiltrate, "'base_url' is not allowed"),
        ("openai", attacker, {}, "is not a model you can use here"),
        ("vllm", "default", {"trust_remote_code": True}, "'trust_remote_code' is not allowed"),
        (
            "vllm",
            "default",
            {"engine_options": {"trust_remote_code": True}},
            "'engine_options' is not allowed",
        ),
        ("vllm", "default", {"hf_overrides": {"x": 1}}, "unknown backend option 'hf_overrides'"),
        ("transformers", "HuggingFaceTB/some-hub-model", {}, "is not a model you can use here"),
        ("transformers", "/etc", {}, "outside the allowed folders"),
        ("vllm", "default", {"dtype": "float8"}, "'dtype' must be one of"),
    ]
    for backend, model, options, message in attempts:
        refused(lambda: _generate(annotator, backend, model, options), message)  # noqa: B023
    assert _stored(engine) == before  # nothing stored for a refused run
    assert Recorder.seen == []  # and nothing left the machine
    with engine.connect() as connection:  # the secret is nowhere in the database
        dump = repr(connection.exec_driver_sql("SELECT * FROM job").fetchall())
        assert SECRET not in dump


def test_a_viewer_steps_through_only_with_offered_models(server: str, attacker: str, engine: Engine) -> None:
    viewer = Client(server, auth=("victor", PASSWORD), verbose=False)
    for typed in ("transformers:some-folder", "vllm:default"):
        refused(
            lambda: viewer.predict(None, "What is 2 + 3?", typed, typed, api_name="/stepthrough_start"),  # noqa: B023
            "other models need an annotator",
        )
    offered = viewer.predict(
        None, "What is 2 + 3?", "transformers:default", "lab", api_name="/stepthrough_start"
    )
    state = offered[0]
    assert state["decomposer"] == {"backend": "transformers", "model": "default"}
    assert state["solver"] == {"backend": "openai", "model": "lab"}
    crafted = [
        ({"backend": "openai", "model": "lab", "options": {"base_url": attacker, "api_key_env": SECRET_ENV}},
         "'base_url' is not allowed"),
        ({"backend": "transformers", "model": "some-folder"}, "other models need an annotator"),
        ({"backend": "transformers", "model": "/etc"}, "outside the allowed folders"),
    ]  # fmt: skip
    for spec, message in crafted:
        step = {**state, "decomposer": spec}
        refused(lambda: viewer.predict(step, EMPTY_TRACE, False, 0, api_name="/stepthrough_next"), message)  # noqa: B023
    annotator = Client(server, auth=("alice", PASSWORD), verbose=False)
    step = {**state, "solver": crafted[0][0]}
    refused(
        lambda: annotator.predict(step, EMPTY_TRACE, False, 0, api_name="/stepthrough_next"),
        "'base_url' is not allowed",
    )
    assert Recorder.seen == []
