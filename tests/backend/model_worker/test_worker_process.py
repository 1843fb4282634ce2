"""The model worker as a real process with a tiny model: streamed steps, queueing in arrival order, a
connection without the key refused, and a worker killed mid-step (clear error, the next step restarts it)."""

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any

import pytest

from backend.evaluation.stepthrough import StepSession
from backend.model_worker.client import WorkerClient, WorkerGone
from backend.model_worker.protocol import ModelLoad
from db.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerClient]:
    home = tmp_path_factory.mktemp("worker-home")
    settings = Settings(home=home)
    worker = WorkerClient(settings.model_dump_json(), log_path=home / "worker.log", token_delay_s=0.03)
    yield worker
    worker.stop()


def _state() -> dict[str, Any]:
    spec = {"checkpoint_id": 1}  # what the page stores; the worker receives the resolved ModelLoad
    return StepSession(question="Tom has 3 boxes of 5 pens.", decomposer=spec, solver=spec).to_json()


def _load(tiny_gpt2: Path) -> ModelLoad:
    return ModelLoad("transformers", str(tiny_gpt2))


def test_a_step_streams_its_text_then_returns_the_state(client: WorkerClient, tiny_gpt2: Path) -> None:
    events = list(client.step(_state(), _load(tiny_gpt2), _load(tiny_gpt2)))
    kinds = [event["event"] for event in events]
    assert kinds[0] == "loading" and kinds[-1] == "done", kinds
    questions = [e["text"] for e in events if e["event"] == "text" and e["part"] == "question"]
    assert len(questions) >= 2 and len(questions[-1]) > len(questions[0])  # the text grew, token by token
    final = StepSession.from_json(events[-1]["state"])
    assert final.finished or (final.pairs and final.pairs[0].answer is not None)


def test_requests_wait_their_turn_and_hear_how_many_are_ahead(client: WorkerClient, tiny_gpt2: Path) -> None:
    first = client.step(_state(), _load(tiny_gpt2), _load(tiny_gpt2))
    assert next(first)["event"] in ("text", "loading")  # the first request holds the model now
    seen: list[dict[str, Any]] = []
    second = threading.Thread(
        target=lambda: seen.extend(client.step(_state(), _load(tiny_gpt2), _load(tiny_gpt2)))
    )
    second.start()
    rest = list(first)
    second.join(timeout=120)
    assert rest[-1]["event"] == "done"
    assert seen[0] == {"event": "queued", "ahead": 1} and seen[-1]["event"] == "done"


def test_a_connection_without_the_key_is_refused(client: WorkerClient) -> None:
    client.ping()
    assert client.address is not None and client.address[0] == "127.0.0.1"
    with pytest.raises(Exception, match=r"digest|[Aa]uthentication"):
        Client(client.address, authkey=b"not the key")


def test_an_idle_connection_does_not_stall_anyone(client: WorkerClient, tiny_gpt2: Path) -> None:
    client.ping()
    assert client.address is not None
    with socket.create_connection(client.address):  # connects, never answers the key challenge
        answered: list[dict[str, Any]] = []
        started = time.monotonic()
        asker = threading.Thread(target=lambda: answered.append(client.ping()), daemon=True)
        asker.start()
        asker.join(timeout=5)
        assert answered and answered[0]["event"] == "pong", "a ping waited on the idle connection"
        assert time.monotonic() - started < 1.0
        events = list(client.step(_state(), _load(tiny_gpt2), _load(tiny_gpt2)))
        assert events[-1]["event"] == "done"


def test_a_worker_killed_mid_step_is_reported_and_restarted(client: WorkerClient, tiny_gpt2: Path) -> None:
    events = client.step(_state(), _load(tiny_gpt2), _load(tiny_gpt2))
    while next(events)["event"] != "text":
        pass
    old_pid = client.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)  # the worker this test's client started
    with pytest.raises(WorkerGone, match="stopped during the step"):
        list(events)
    again = list(client.step(_state(), _load(tiny_gpt2), _load(tiny_gpt2)))
    assert again[-1]["event"] == "done" and client.pid not in (None, old_pid)
