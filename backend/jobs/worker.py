"""Worker process for one job.

Run: SOCRATIC_DATABASE_URL=sqlite:///path/studio.db python -m backend.jobs.worker JOB_ID --log path/job.log

The database URL comes from the environment (or the settings' default), never from the command line:
a password in it would show in every user's `ps`.
"""

import argparse
import signal
import sys
from types import FrameType

from backend.display.masking import mask_secrets
from backend.jobs.runner import run_job, start_waiting
from db.engine import open_database
from db.models import JobStatus
from db.settings import get_settings


def _terminate_as_interrupt(_signum: int, _frame: FrameType | None) -> None:
    # SIGTERM becomes KeyboardInterrupt so run_job records the failure before the process ends.
    raise KeyboardInterrupt("terminated by signal")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("job_id", type=int)
    parser.add_argument("--log", default=None)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    url = get_settings().resolved_database_url
    print(f"job {args.job_id}: database {mask_secrets(url)}", flush=True)  # the log shows no password
    engine = open_database(url)
    try:
        status = run_job(engine, args.job_id, log_path=args.log)
    finally:  # also when terminated: this job's slot is free, the next one in line starts
        start_waiting(engine, database_url=url)
    print(f"job {args.job_id} ended: {status}", flush=True)
    return 0 if status != JobStatus.failed else 1


if __name__ == "__main__":
    sys.exit(main())
