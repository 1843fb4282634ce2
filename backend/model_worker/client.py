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
from collections.abc import Iterator
from dataclasses import asdict
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from backend.model_worker.protocol import READY_PREFIX, ModelLoad, WorkerConfig

START_TIMEOUT_S = 60.0
FINAL_EVENTS = ("done", "error", "pong")


class WorkerGone(RuntimeError):
    """The worker stopped (killed, crashed) or could not be reached; the next request starts a new one."""


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
        error: OSError | None = None
        for attempt in range(2):
            with self.lock:
                if attempt:
                    self.stop()
                if self.process is None or self.process.poll() is not None:
                    self._start()
                address, authkey = self.address, self.authkey
            assert address is not None
            try:
                return Client(address, authkey=authkey)
            except OSError as failed:
                error = failed
        raise WorkerGone(f"the model worker cannot be reached ({error})") from error

    def events(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The worker's events for one request, up to its final one; WorkerGone if it dies meanwhile."""
        conn = self._connect()
        try:
            conn.send(request)
            while True:
                event: dict[str, Any] = conn.recv()
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
        request = {"op": "step", "state": state, "decomposer": decomposer.to_json(),
                   "solver": solver.to_json()}  # fmt: skip
        return self.events(request)

    def ping(self) -> dict[str, Any]:
        return list(self.events({"op": "ping"}))[-1]

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
