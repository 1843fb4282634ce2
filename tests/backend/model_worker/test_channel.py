"""The worker's connection: an idle or keyless client never holds the accept loop, and the client side
gives up on a silent worker (connect, handshake, and a request's time limit) with a clear error."""

import socket
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection, Listener
from pathlib import Path

import pytest

from backend.model_worker import channel, client
from backend.model_worker.client import WorkerClient, WorkerTimeout, step_timeout_s

KEY = b"k" * 32


@pytest.fixture
def echo_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    """serve_forever with a handler that answers one request with a pong."""
    monkeypatch.setattr(channel, "SERVER_HANDSHAKE_S", 0.5)
    listener = Listener(("127.0.0.1", 0), backlog=64)

    def handle(conn: Connection) -> None:
        with conn:
            conn.recv()
            conn.send({"event": "pong"})

    threading.Thread(target=channel.serve_forever, args=(listener, KEY, handle), daemon=True).start()
    yield listener.address
    listener.close()


def _ask(address: tuple[str, int]) -> dict[str, str]:
    with channel.connect(address, KEY) as conn:
        conn.send({"op": "ping"})
        assert conn.poll(2.0), "no answer within 2 s"
        answer: dict[str, str] = conn.recv()
        return answer


def test_an_idle_connection_does_not_hold_the_accept_loop(echo_server: tuple[str, int]) -> None:
    idle = [socket.create_connection(echo_server) for _ in range(3)]  # say nothing, stay open
    started = time.monotonic()
    assert _ask(echo_server) == {"event": "pong"}
    assert time.monotonic() - started < 1.0
    for sock in idle:
        sock.settimeout(3.0)
        sock.recv(1024)  # the challenge
        assert sock.recv(1024) == b""  # then closed by the server: the handshake timed out
        sock.close()


def test_a_flood_of_idle_connections_pushes_out_only_its_own(echo_server: tuple[str, int]) -> None:
    flood = [socket.create_connection(echo_server) for _ in range(channel.MAX_PENDING_HANDSHAKES + 20)]
    started = time.monotonic()
    assert _ask(echo_server) == {"event": "pong"}  # at once: the oldest idle ones were cut off
    assert time.monotonic() - started < 1.0
    for sock in flood[:20]:
        sock.settimeout(3.0)
        sock.recv(1024)  # the challenge
        assert sock.recv(1024) == b""
    for sock in flood:
        sock.close()


def test_the_client_gives_up_on_a_worker_that_never_answers_the_handshake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(channel, "CLIENT_HANDSHAKE_S", 0.3)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (the backlog), never speaks
        started = time.monotonic()
        with pytest.raises(OSError):
            channel.connect(silent.getsockname(), KEY)
        assert time.monotonic() - started < 2.0


def test_a_step_that_outlasts_its_limit_ends_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    listener = Listener(("127.0.0.1", 0), backlog=64)

    def never_answers(conn: Connection) -> None:
        conn.recv()
        time.sleep(5)

    threading.Thread(target=channel.serve_forever, args=(listener, KEY, never_answers), daemon=True).start()
    worker = WorkerClient("{}", log_path=tmp_path / "worker.log")
    monkeypatch.setattr(worker, "_connect", lambda: channel.connect(listener.address, KEY))
    started = time.monotonic()
    with pytest.raises(WorkerTimeout, match=r"no answer within 0.5 s"):
        list(worker.events({"op": "step"}, timeout_s=0.5))
    assert time.monotonic() - started < 2.0
    listener.close()


def test_a_steps_limit_grows_with_its_tokens_and_pacing() -> None:
    assert step_timeout_s(100) > step_timeout_s(10) >= client.STEP_BASE_S
    assert step_timeout_s(100, token_delay_s=0.5) - step_timeout_s(100) == pytest.approx(50)
