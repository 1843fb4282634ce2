"""Run a prepared training run in this process, or on several GPUs through accelerate.

    # one device (what the job worker does, without the job bookkeeping):
    python -m backend.training.launch --run-id N
    # several GPUs, same config (DDP; only rank 0 writes the database and the checkpoint):
    accelerate launch --num_processes 4 -m backend.training.launch --run-id N
    torchrun --nproc_per_node 4 -m backend.training.launch --run-id N

Run N and its config are recorded in the database by `socratic-studio train ... --prepare-only` (or the
web app) before anything trains. The run's job row is marked running and finished here, so the web app
shows the run, its loss curve and its checkpoint as for a single-process job, and `jobs cancel` stops it
at a step.
"""

import argparse
import sys
import traceback

from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.jobs import store
from backend.jobs.context import JobContext
from backend.training.job import execute_training, load_run_config
from db.engine import open_database
from db.models import JobStatus, TrainingRun
from db.settings import get_settings


def _job_context(engine: Engine, run_id: int) -> JobContext | None:
    with Session(engine) as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise SystemExit(f"error: training run {run_id} is not in this database")
        job_id = run.job_id
    return None if job_id is None else JobContext(engine=engine, job_id=job_id, params={})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run-id", required=True, type=int, help="the prepared training run's id")
    parser.add_argument(
        "--db", default=None, help="database URL (default: SOCRATIC_DATABASE_URL or ~/.socratic-studio)"
    )
    args = parser.parse_args(argv)
    from accelerate import PartialState

    main_process = PartialState().is_main_process
    run_id = args.run_id
    engine = open_database(args.db or get_settings().resolved_database_url)
    ctx = _job_context(engine, run_id)
    config = load_run_config(engine, run_id)
    if ctx is not None and main_process:
        store.mark_started(engine, job_id=ctx.job_id, log_path=None)
    try:
        checkpoint = execute_training(
            engine,
            run_id=run_id,
            config=config,
            cancelled=ctx.cancelled if ctx is not None else lambda: False,
            report=ctx.progress if ctx is not None and main_process else None,
        )
    except BaseException as error:
        if ctx is not None and main_process:
            detail = "".join(traceback.format_exception(error))
            store.mark_finished(engine, job_id=ctx.job_id, status=JobStatus.failed, error=detail)
        raise
    if checkpoint is not None and ctx is not None:
        status = JobStatus.cancelled if ctx.cancelled() else JobStatus.succeeded
        store.mark_finished(
            engine, job_id=ctx.job_id, status=status, message=f"checkpoint {checkpoint.name!r}"
        )
    if checkpoint is not None:
        print(f"checkpoint {checkpoint.name!r} (id {checkpoint.id}) at {checkpoint.path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
