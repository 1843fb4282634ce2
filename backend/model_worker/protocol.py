"""What travels between the web app and the model worker (plain dicts: pickled over an authenticated
loopback connection, so both sides are this same code base).

Request: {"op": "step", "state": StepSession JSON, "decomposer": ModelLoad, "solver": ModelLoad}
         {"op": "ping"} (answers {"event": "pong", "loaded": [...]})
Events, in order, for one step:
    {"event": "queued", "ahead": N}        while N requests are ahead of this one (repeated as N falls)
    {"event": "loading", "role": ...}      before a model that is not loaded yet is loaded
    {"event": "text", "part": "question" | "answer", "text": ...}   the text so far, as tokens arrive
    {"event": "asked", "state": ...}       the state with the new sub-question (or finished)
    {"event": "done", "state": ...}        the state after the step
    {"event": "error", "message": ...}     the step failed; the state before it stands
"""

from dataclasses import asdict, dataclass, field
from typing import Any

READY_PREFIX = "MODEL-WORKER-READY"  # the worker's first stdout line: "MODEL-WORKER-READY <port>"


@dataclass(frozen=True)
class ModelLoad:
    """What the worker opens (already checked by backend.model_ref in the web process)."""

    backend: str
    model: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return repr((self.backend, self.model, sorted(self.options.items())))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WorkerConfig:
    """Handed to the worker on its stdin (never argv: the key would show in `ps`)."""

    authkey: str  # hex
    settings_json: str  # the app's Settings (model roots, endpoints, login on/off)
    max_models: int = 4  # two sessions' decomposer and solver stay loaded
    idle_unload_s: float = 600.0  # a model unused this long is unloaded
    token_delay_s: float = 0.0  # pacing per token (demos on fast machines; tests that watch a step)
