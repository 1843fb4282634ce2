"""Every request's work is bounded (issue 26): on a live server with login on, a viewer's hostile request
(a 48 KB "1 + 1 + ..." trace state to Reveal, a `{question:>200000000}` template preview, a compare of
two 120 KB revisions) is answered at once, and a normal request sent while it runs is answered within
1 s. Before, each of them held Python's global lock for 30 s to minutes and every user waited.

Reveal and Compare are page-only events (not in the API docs), but a browser calls them by number like
any other, so the test does too (gradio_client is told the event is callable)."""

import html
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.access.limits import MAX_STEP_CHARS, MAX_STEPS
from backend.annotation import save_edit
from backend.evaluation.stepthrough import Pair, StepSession
from backend.student_formats import StepText
from db.engine import make_engine
from tests.webapp.conftest import make_settings
from tests.webapp.seed import PASSWORD, make_users, seed_rationales
from webapp.app import build_app, launch_options
from webapp.roles import events

MODEL = {"checkpoint_id": 1}
BIG_STEP = 30_000  # "x y " repeated: a 120 KB step
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(database_url: str, home: str, port: str) -> None:
    """The app with login on, in the foreground (run in its own process by the `server` fixture)."""
    engine = make_engine(database_url)
    settings = make_settings(Path(home), auth=True)
    blocks = build_app(engine, settings)
    blocks.queue()
    blocks.launch(
        server_name="127.0.0.1", server_port=int(port), quiet=True, **launch_options(engine, settings)
    )


def _event_numbers(engine: Engine, home: Path) -> dict[str, int]:
    """Event number by handler name, from the same app built here (the numbering is deterministic)."""
    numbers: dict[str, int] = {}
    for block_fn in events(build_app(engine, make_settings(home, auth=True))):
        name = getattr(getattr(block_fn.fn, "__wrapped__", block_fn.fn), "__qualname__", "")
        numbers.setdefault(name, block_fn._id)
    return numbers


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server stopped: {log.read_text()[-2000:]}"
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return  # it answers (a login redirect or refusal is an answer)
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")


@pytest.fixture
def server(engine: Engine, tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """The app with login on, in its own process: a handler holding Python's global lock there must not
    freeze the clients measuring it here. Rationale 1 has two 120 KB revisions (stored before the
    limits, or by an import). Yields the URL and the event numbers of Reveal and Compare."""
    with Session(engine) as session:
        users = make_users(session)
        [rationale, *_] = seed_rationales(session)
        for number, text in ((1, "x y " * BIG_STEP), (2, "y x " * BIG_STEP)):
            steps = [StepText("How many?", text)]
            save_edit(session, rationale_id=rationale.id or 0, expected_version=number, steps=steps,
                      final_answer="1", author=users["admin"])  # fmt: skip
    home, port, log = tmp_path / "home", _free_port(), tmp_path / "server.log"
    numbers = _event_numbers(engine, home)
    database_url = engine.url.render_as_string(hide_password=False)
    code = "import sys; from tests.webapp.test_bounded_requests import serve; serve(*sys.argv[1:])"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", code, database_url, str(home), str(port)],
            cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield (
            url,
            {"reveal": numbers["StepThroughHandlers.reveal"], "compare": numbers["HistoryHandlers.compare"]},
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _page_event(client: Client, fn_index: int, *args: Any) -> Any:
    """Call an event the page calls (hidden from the API docs) as the browser would."""
    client.endpoints[fn_index].is_valid = True
    return client.predict(*args, fn_index=fn_index)


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except AppError as error:
        return error


def _while_running(hostile: Callable[[], Any], normal: Callable[[], Any]) -> tuple[float, float, Any]:
    """Send `hostile`, then `normal` while it is (or would still be) running: (seconds to answer the
    normal request, seconds the hostile one took (inf: over a minute), its result or AppError)."""
    result: dict[str, Any] = {}

    def send() -> None:
        started = time.perf_counter()
        result["value"] = _outcome(hostile)
        result["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    thread.join(timeout=2)  # until it is answered, or long enough to be running on the server
    started = time.perf_counter()
    try:
        normal()
        latency = time.perf_counter() - started
    except Exception:  # e.g. the client's read timeout: the server did not answer at all
        latency = float("inf")
    thread.join(timeout=60)
    return latency, result.get("seconds", float("inf")), result.get("value")


def _check(name: str, value: Any, refusal: str | None) -> None:
    """The hostile request was refused with `refusal` in its message, or (None) answered."""
    if refusal is None:
        assert not isinstance(value, AppError), f"{name}: refused: {value}"
    else:
        assert isinstance(value, AppError), f"{name}: accepted: {str(value)[:200]}"
        assert refusal in html.unescape(str(value)), f"{name}: {value}"


@pytest.mark.timeout(300)
def test_a_normal_request_is_answered_within_a_second_while_a_hostile_one_runs(
    server: tuple[str, dict[str, int]],
) -> None:
    url, number = server
    hostile = Client(url, auth=("victor", PASSWORD), verbose=False)  # a viewer is enough for each
    bystander = Client(url, auth=("bob", PASSWORD), verbose=False)

    def normal() -> None:
        bystander.predict("id", False, 1, 25, api_name="/explore_page")  # the filter is the page's state

    # No "=" after the chain: the old pattern tried again from every number (quadratic).
    forty_eight_kb = StepSession("q", MODEL, MODEL, pairs=[Pair("Sum?", "1 + " * 12_000)])
    at_the_limits = StepSession(  # 256 KB that passes the limits: every step goes through the calculator
        "q", MODEL, MODEL, pairs=[Pair("Sum?", "1 + " * (MAX_STEP_CHARS // 4))] * MAX_STEPS
    )
    current = {"rationale_id": 1, "version": 3}
    cases: list[tuple[str, Callable[[], Any], str | None]] = [
        (
            "a 48 KB trace state to Reveal",
            lambda: _page_event(hostile, number["reveal"], forty_eight_kb.to_json(), False),
            "answer 1 is too long: 48,000 characters",
        ),
        (
            "a trace state at the limits to Reveal",
            lambda: _page_event(hostile, number["reveal"], at_the_limits.to_json(), False),
            None,
        ),
        (
            "the {question:>200000000} template preview",
            lambda: hostile.predict(
                "cot", "toy", "", "{question:>200000000}", False, api_name="/preview_prompt"
            ),
            "not valid",
        ),
        (
            "a compare of two 120 KB revisions",
            lambda: _page_event(hostile, number["compare"], current, "2", "3"),
            None,
        ),
    ]
    normal()  # warm: the first call of an event pays for imports
    for name, send, refusal in cases:
        latency, seconds, value = _while_running(send, normal)
        assert latency < 1.0, f"{name}: the normal request took {latency:.1f} s"
        assert seconds < 10, f"{name}: the hostile request itself took {seconds:.1f} s"
        _check(name, value, refusal)
