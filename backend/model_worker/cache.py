"""The worker's loaded models: at most `max_models` (least recently used closed first), and any model
unused for `idle_unload_s` closed by `unload_idle` (the worker calls it between requests)."""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from backend.model_worker.protocol import ModelLoad
from backend.model_worker.streaming import StreamingModel

Opener = Callable[[ModelLoad], StreamingModel]


@dataclass
class _Entry:
    model: StreamingModel
    used_at: float


class ModelCache:
    def __init__(self, opener: Opener, *, max_models: int, idle_unload_s: float) -> None:
        if max_models < 1:
            raise ValueError(f"max_models must be at least 1, got {max_models}")
        self.opener, self.max_models, self.idle_unload_s = opener, max_models, idle_unload_s
        self.entries: OrderedDict[str, _Entry] = OrderedDict()

    def __contains__(self, load: ModelLoad) -> bool:
        return load.key in self.entries

    def get(self, load: ModelLoad) -> StreamingModel:
        """The loaded model (opened on first use); evicts the least recently used beyond the bound."""
        entry = self.entries.get(load.key)
        if entry is None:
            entry = _Entry(self.opener(load), time.monotonic())
            self.entries[load.key] = entry
        self.entries.move_to_end(load.key)
        entry.used_at = time.monotonic()
        while len(self.entries) > self.max_models:
            _, old = self.entries.popitem(last=False)
            old.model.close()
        return entry.model

    def unload_idle(self, now: float | None = None) -> list[str]:
        """Close the models unused for `idle_unload_s`; returns their keys."""
        now = time.monotonic() if now is None else now
        idle = [key for key, entry in self.entries.items() if now - entry.used_at >= self.idle_unload_s]
        for key in idle:
            self.entries.pop(key).model.close()
        return idle

    def loaded(self) -> list[str]:
        return list(self.entries)

    def close(self) -> None:
        for entry in self.entries.values():
            entry.model.close()
        self.entries.clear()
