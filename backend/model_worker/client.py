"""The web side of the model worker: start it when a step needs it (again after it died), send the step,
and hand back its events as they arrive. Imports nothing heavy: the web server never loads torch."""

import atexit
import json
import os
import secrets
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from backend.model_worker import channel
from backend.model_worker.protocol import READY_PREFIX, ModelLoad, WorkerConfig

START_TIMEOUT_S = 60.0
FINAL_EVENTS = ("done", "error", "pong")
# A step's time limit, from the moment its turn comes: loading two models and reading the prompts, then
# each token it may generate (a 1.7B model on two CPU cores writes about 3 tokens a second).
STEP_BASE_S = 120.0
SECONDS_PER_TOKEN = 1.0
PING_TIMEOUT_S = 30.0


class WorkerGone(RuntimeError):
    """The worker stopped (killed, crashed) or could not be reached; the next request starts a new one."""


class WorkerTimeout(WorkerGone):
    """The worker did not answer within the request's time limit; the connection is closed, which stops
    that step at its next token."""


def step_timeout_s(max_tokens: int, token_delay_s: float = 0.0) -> float:
    """How long one step may take once its turn comes: sized by the tokens it may generate."""
    return STEP_BASE_S + max_tokens * (SECONDS_PER_TOKEN + token_delay_s)


def options_from_env() -> dict[str, float]:
    """Worker tuning from the environment (SOCRATIC_WORKER_MAX_MODELS, _IDLE_S, _TOKEN_DELAY_S)."""
    names = {"max_models": "MAX_MODELS", "idle_unload_s": "IDLE_S", "token_delay_s": "TOKEN_DELAY_S"}
    options: dict[str, float] = {}
    for field_name, suffix in names.items():
        raw = os.environ.get(f"SOCRATIC_WORKER_{suffix}")
        if raw:
            options[field_name] = float(raw)
    return options


class WorkerClient:
    def __init__(self, settings_json: str, *, log_path: Path, **tuning: float) -> None:
        self.settings_json, self.log_path, self.tuning = settings_json, log_path, tuning
        self.process: subprocess.Popen[bytes] | None = None
        self.address: tuple[str, int] | None = None
        self.authkey = b""
        self.lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def _start(self) -> None:
        self.authkey = secrets.token_bytes(32)
        config = WorkerConfig(authkey=self.authkey.hex(), settings_json=self.settings_json)
        values = asdict(config) | {key: value for key, value in self.tuning.items()}
        values["max_models"] = int(values["max_models"])
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backend.model_worker.server"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            )  # fmt: skip
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(values) + "\n").encode())
        self.process.stdin.close()
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline().decode(errors="replace").strip() if ready else ""
        if not line.startswith(READY_PREFIX):
            self.stop()
            raise WorkerGone(f"the model worker did not start (see {self.log_path})")
        self.address = ("127.0.0.1", int(line.split()[1]))

    def _connect(self) -> Connection:
        """A connection to the worker, started on demand. A worker that cannot be reached (killed but not
        yet reaped, so it still looks alive) is replaced once before giving up."""
        error: OSError | EOFError | AuthenticationError | None = None
        for attempt in range(2):
            with self.lock:
                if attempt:
                    self.stop()
                if self.process is None or self.process.poll() is not None:
                    self._start()
                address, authkey = self.address, self.authkey
            assert address is not None
            try:
                return channel.connect(address, authkey)
            except (OSError, EOFError, AuthenticationError) as failed:  # refused, cut off or timed out
                error = failed
        raise WorkerGone(f"the model worker cannot be reached ({error})") from error

    def events(self, request: dict[str, Any], *, timeout_s: float) -> Iterator[dict[str, Any]]:
        """The worker's events for one request, up to its final one; WorkerGone if it dies meanwhile and
        WorkerTimeout if it is silent while queued, or its turn lasts, longer than `timeout_s`."""
        conn = self._connect()
        try:
            conn.send(request)
            deadline: float | None = None  # set when this request's turn comes (its first non-queued event)
            while True:
                # While queued, each request ahead is bounded by its own limit, and the worker says so
                # each time the line moves: silence that long means a stuck worker.
                wait = timeout_s if deadline is None else deadline - time.monotonic()
                if wait <= 0 or not conn.poll(wait):
                    raise WorkerTimeout(_timed_out(timeout_s))
                event: dict[str, Any] = conn.recv()
                if deadline is None and event.get("event") != "queued":
                    deadline = time.monotonic() + timeout_s
                yield event
                if event.get("event") in FINAL_EVENTS:
                    return
        except (EOFError, OSError) as error:
            raise WorkerGone("the model worker stopped during the step") from error
        finally:
            conn.close()

    def step(
        self, state: dict[str, Any], decomposer: ModelLoad, solver: ModelLoad
    ) -> Iterator[dict[str, Any]]:
        """One Next step's events: a sub-question and its answer, so it may take the time of both."""
        from backend.evaluation.socratic import LoopParams

        params = LoopParams()  # what the worker's step generates with (StepSession.loop_params)
        max_tokens = params.question_tokens + params.answer_tokens
        request = {"op": "step", "state": state, "decomposer": decomposer.to_json(),
                   "solver": solver.to_json()}  # fmt: skip
        delay = float(self.tuning.get("token_delay_s", 0.0))
        return self.events(request, timeout_s=step_timeout_s(max_tokens, delay))

    def ping(self) -> dict[str, Any]:
        return list(self.events({"op": "ping"}, timeout_s=PING_TIMEOUT_S))[-1]

    def stop(self) -> None:
        """End the worker this client started (its own child, by pid)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if process is not None and process.stdout is not None:
            process.stdout.close()


def _timed_out(timeout_s: float) -> str:
    return (
        f"no answer within {timeout_s:g} s, this request's limit; the step was abandoned and the worker "
        "goes on with the next one"
    )
