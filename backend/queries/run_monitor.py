"""Read-side views of training runs for the pages that watch them: status, loss curves, config diffs.

Everything comes from the database (TrainingRun, its Job, TrainingMetric rows), so any browser tab, user
or restarted server sees the same state as the worker that writes it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from db.models import Job, TrainingMetric, TrainingRun


@dataclass
class RunStatus:
    run: TrainingRun
    job: Job | None
    last_step: int | None
    last_loss: float | None
    eta_seconds: float | None


def get_run_status(session: Session, *, run_id: int) -> RunStatus:
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise LookupError(f"no training run with id {run_id}")
    job = session.get(Job, run.job_id) if run.job_id is not None else None
    last = session.exec(
        select(TrainingMetric)
        .where(TrainingMetric.run_id == run_id, col(TrainingMetric.loss).is_not(None))
        .order_by(col(TrainingMetric.step).desc(), col(TrainingMetric.id).desc())
        .limit(1)
    ).first()
    return RunStatus(
        run=run,
        job=job,
        last_step=last.step if last else None,
        last_loss=last.loss if last else None,
        eta_seconds=last.eta_seconds if last else None,
    )


def loss_curves(session: Session, *, run_ids: Sequence[int]) -> dict[int, tuple[list[int], list[float]]]:
    """Per run, the training loss by step (steps without a loss value are skipped), in step order."""
    rows = session.exec(
        select(TrainingMetric.run_id, TrainingMetric.step, TrainingMetric.loss)
        .where(col(TrainingMetric.run_id).in_(list(run_ids)), col(TrainingMetric.loss).is_not(None))
        .order_by(col(TrainingMetric.run_id), col(TrainingMetric.step), col(TrainingMetric.id))
    ).all()
    curves: dict[int, tuple[list[int], list[float]]] = {run_id: ([], []) for run_id in run_ids}
    for run_id, step, loss in rows:
        steps, losses = curves[run_id]
        steps.append(step)
        losses.append(float(loss or 0.0))
    return curves


def run_names(session: Session, *, run_ids: Sequence[int]) -> dict[int, str]:
    rows = session.exec(
        select(TrainingRun.id, TrainingRun.name).where(col(TrainingRun.id).in_(list(run_ids)))
    )
    return {run_id: name for run_id, name in rows.all() if run_id is not None}


def config_diff(session: Session, *, run_ids: Sequence[int]) -> list[dict[str, Any]]:
    """One row per hyper-parameter: its value in each run and whether the runs differ (differences first)."""
    runs = [run for run_id in run_ids if (run := session.get(TrainingRun, run_id)) is not None]
    configs = {
        run.id: {"base_model": run.base_model, "kind": str(run.student_kind)} | run.hyperparams
        for run in runs
    }
    keys = sorted({key for config in configs.values() for key in config})
    rows = []
    for key in keys:
        values = {run_id: configs[run_id].get(key) for run_id in configs}
        differs = len({repr(value) for value in values.values()}) > 1
        rows.append({"parameter": key, "differs": differs, "values": values})
    rows.sort(key=lambda row: (not row["differs"], row["parameter"]))
    return rows
