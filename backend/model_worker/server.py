"""The model worker process: `python -m backend.model_worker.server`, started by the web app (client.py)
with its configuration (protocol.WorkerConfig as one JSON line) on stdin.

It listens on a loopback port chosen by the OS (only connections that prove the key within a few
seconds are served: backend.model_worker.channel), prints "MODEL-WORKER-READY <port>" and serves each
connection in a thread; the model work itself runs one request at a time, in arrival order. It exits
when the web app that started it is gone.
"""

import json
import os
import sys
import threading
import time
from multiprocessing.connection import Connection, Listener
from typing import Any

from backend.model_worker.cache import ModelCache
from backend.model_worker.channel import serve_forever
from backend.model_worker.protocol import READY_PREFIX, ModelLoad, WorkerConfig
from backend.model_worker.streaming import StreamingModel

TEXT_EVENTS_PER_S = 20  # the page cannot show more; fewer messages keep the connection light
HOUSEKEEPING_S = 2.0


class TurnQueue:
    """First come, first served: `wait` blocks until every earlier request is done, reporting how many
    are ahead each time that number changes."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.tickets: list[object] = []

    def wait(self, ticket: object, on_ahead: Any) -> None:
        with self.cond:
            self.tickets.append(ticket)
            reported = -1
            while self.tickets[0] is not ticket:
                ahead = self.tickets.index(ticket)
                if ahead != reported:
                    on_ahead(ahead)
                    reported = ahead
                self.cond.wait(1.0)

    def done(self, ticket: object) -> None:
        with self.cond:
            if ticket in self.tickets:
                self.tickets.remove(ticket)
            self.cond.notify_all()

    def idle(self) -> bool:
        with self.cond:
            return not self.tickets


class Sender:
    """Events to one client; text events thinned to TEXT_EVENTS_PER_S (the latest text always wins)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.last_text = 0.0

    def send(self, event: dict[str, Any]) -> None:
        self.conn.send(event)

    def text(self, part: str, text: str) -> None:
        now = time.monotonic()
        if now - self.last_text >= 1 / TEXT_EVENTS_PER_S:
            self.last_text = now
            self.conn.send({"event": "text", "part": part, "text": text})


class Worker:
    def __init__(self, config: WorkerConfig) -> None:
        from db.settings import Settings

        self.config = config
        self.settings = Settings.model_validate_json(config.settings_json)
        self.queue = TurnQueue()
        self.cache = ModelCache(self._open, max_models=config.max_models, idle_unload_s=config.idle_unload_s)

    def _open(self, load: ModelLoad) -> StreamingModel:
        from backend.model_ref import open_backend

        backend = open_backend(load.backend, load.model, settings=self.settings, **load.options)
        return StreamingModel(backend, token_delay_s=self.config.token_delay_s)

    def _model(self, sender: Sender, load: ModelLoad, role: str) -> StreamingModel:
        if load not in self.cache:
            sender.send({"event": "loading", "role": role})
        return self.cache.get(load)

    def step(self, sender: Sender, request: dict[str, Any]) -> None:
        """One Next step: the sub-question (unless one is pending), then its answer."""
        from backend.evaluation import stepthrough
        from backend.evaluation.stepthrough import StepSession

        state = StepSession.from_json(request["state"])
        decomposer, solver = ModelLoad(**request["decomposer"]), ModelLoad(**request["solver"])
        if state.pending is None and not state.finished:
            model = self._model(sender, decomposer, "decomposer")
            with model.watching(lambda text: sender.text("question", text)):
                state = stepthrough.ask_next(state, model)
            sender.send({"event": "asked", "state": state.to_json()})
        if state.pending is not None:
            model = self._model(sender, solver, "solver")
            with model.watching(lambda text: sender.text("answer", text)):
                state = stepthrough.answer_pending(state, model)
        sender.send({"event": "done", "state": state.to_json()})

    def serve(self, conn: Connection) -> None:
        """One connection: one request, answered with a stream of events."""
        sender, ticket = Sender(conn), object()
        try:
            request = conn.recv()
            if request.get("op") == "ping":
                sender.send({"event": "pong", "loaded": self.cache.loaded(), "pid": os.getpid()})
                return
            self.queue.wait(ticket, lambda ahead: sender.send({"event": "queued", "ahead": ahead}))
            try:
                self.step(sender, request)
            except (EOFError, OSError):
                raise  # the client left: nobody to tell
            except Exception as error:  # a model that fails to load or generate: the page shows why
                sender.send({"event": "error", "message": f"{type(error).__name__}: {error}"})
        except (EOFError, OSError):
            pass
        finally:
            self.queue.done(ticket)
            conn.close()

    def housekeeping(self, parent_pid: int) -> None:
        """Unload idle models between requests; exit when the web app that started us is gone."""
        while True:
            time.sleep(HOUSEKEEPING_S)
            if os.getppid() != parent_pid:
                os._exit(0)
            if self.queue.idle():
                ticket = object()
                self.queue.wait(ticket, lambda ahead: None)
                try:
                    for key in self.cache.unload_idle():
                        print(f"unloaded idle model {key}", file=sys.stderr, flush=True)
                finally:
                    self.queue.done(ticket)


def main() -> None:
    config = WorkerConfig(**json.loads(sys.stdin.readline()))
    worker = Worker(config)
    # No authkey here: Listener.accept would run the handshake in the accept loop (channel.py).
    listener = Listener(("127.0.0.1", 0), backlog=64)
    print(f"{READY_PREFIX} {listener.address[1]}", flush=True)
    os.dup2(2, 1)  # later prints (library warnings) go to the log, never into a pipe nobody reads
    threading.Thread(target=worker.housekeeping, args=(os.getppid(),), daemon=True).start()
    serve_forever(listener, bytes.fromhex(config.authkey), worker.serve)


if __name__ == "__main__":
    main()
