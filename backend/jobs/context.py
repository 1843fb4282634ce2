"""What a job handler gets: its parameters, the engine, and progress/cancel hooks."""

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from backend.jobs import store


class JobCancelled(BaseException):
    """Raised by a handler (via JobContext.check_cancel) to stop at a clean boundary.

    A request to stop, not an error (hence BaseException, as KeyboardInterrupt): raised from inside a
    generation call, it must pass through the `except Exception` of fallbacks that retry a failed batch
    problem by problem."""


@dataclass
class JobContext:
    engine: Engine
    job_id: int
    params: dict[str, Any]
    # Progress writes are throttled: a job reporting every item must not hammer the database.
    min_report_interval_s: float = 0.5
    _last_report: float = field(default=0.0, init=False)
    _cancelled: bool = field(default=False, init=False)

    def progress(self, done: int, total: int, message: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if force or done >= total or now - self._last_report >= self.min_report_interval_s:
            self._cancelled = store.report_progress(
                self.engine, job_id=self.job_id, done=done, total=total, message=message
            )
            self._last_report = now

    def cancelled(self) -> bool:
        """True once a cancel was requested; reads the database (call it at batch or step boundaries)."""
        if not self._cancelled:
            self._cancelled = store.cancel_requested(self.engine, job_id=self.job_id)
        return self._cancelled

    def check_cancel(self) -> None:
        if self.cancelled():
            raise JobCancelled

    def stop_if_cancel_reported(self) -> None:
        """Raise JobCancelled when the last progress write found a cancel request. It reads nothing itself,
        so work that reports progress every decoding step (a batch that decodes for minutes) can call it
        there and stop within a step or two instead of at its next batch boundary."""
        if self._cancelled:
            raise JobCancelled
