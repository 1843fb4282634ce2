"""A TrainerCallback that writes each step's loss, learning rate, tokens/s and ETA to the database,
reports job progress, and stops training at a step boundary when a cancel is requested.

(The job log gets the Trainer's own per-step log line from its PrinterCallback.)
"""

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from transformers import TrainerCallback

from db.models import TrainingMetric

Report = Callable[[int, int, str], None]


def _all_ranks_agree(flag: bool) -> bool:
    """Rank 0's decision, broadcast: every process must stop at the same step or DDP deadlocks."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return flag
    box = [flag]
    dist.broadcast_object_list(box, src=0)
    return bool(box[0])


class RunRecorder(TrainerCallback):
    def __init__(
        self,
        *,
        engine: Engine,
        run_id: int,
        cancelled: Callable[[], bool],
        report: Report | None = None,
    ) -> None:
        self.engine = engine
        self.run_id = run_id
        self.cancelled = cancelled
        self.report = report
        self.cancelled_at: int | None = None
        self._started = 0.0
        self._last_time = 0.0
        self._last_tokens = 0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._started = self._last_time = time.monotonic()
        self._last_tokens = int(state.num_input_tokens_seen or 0)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        wants_stop = bool(state.is_world_process_zero and self.cancelled())
        if _all_ranks_agree(wants_stop):
            control.should_training_stop = True
            self.cancelled_at = int(state.global_step)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return  # the end-of-training summary has train_loss, not loss
        metric = self._metric(state, logs)
        with Session(self.engine, expire_on_commit=False) as session:
            session.add(metric)
            session.commit()
        if self.report is not None:
            message = f"step {metric.step}/{state.max_steps} loss {metric.loss:.4f}"
            self.report(metric.step, int(state.max_steps), message)

    def _metric(self, state: Any, logs: dict[str, Any]) -> TrainingMetric:
        now = time.monotonic()
        tokens = int(state.num_input_tokens_seen or 0)
        elapsed = max(now - self._last_time, 1e-9)
        tokens_per_second = (tokens - self._last_tokens) / elapsed
        self._last_time, self._last_tokens = now, tokens
        step = int(state.global_step)
        per_step = (now - self._started) / max(step, 1)
        return TrainingMetric(
            run_id=self.run_id,
            step=step,
            epoch=float(state.epoch) if state.epoch is not None else None,
            loss=float(logs["loss"]),
            learning_rate=float(logs["learning_rate"]) if "learning_rate" in logs else None,
            tokens_per_second=round(tokens_per_second, 2),
            eta_seconds=round(per_step * max(int(state.max_steps) - step, 0), 2),
        )
