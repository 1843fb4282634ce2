"""Where the newest demo chain stands, read from the database: the chain job's own step ("3/5 training the
decomposer (job #12)") and that step's job with its progress, so a page can show both while it polls."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from backend.demo.chain import DemoChainConfig
from backend.jobs import store
from db.models import Job, JobKind, JobStatus
from db.models.common import utcnow

# backend.demo.chain.Steps names the running step's job as "(job #N)" in the chain's message.
_STEP_JOB = re.compile(r"\(job #(\d+)\)")
ACTIVE = (JobStatus.queued, JobStatus.running)


@dataclass(frozen=True)
class ChainProgress:
    chain: Job
    step_job: Job | None  # the job of the step that runs now (None between steps and once finished)
    expected_seconds: float  # what the page promised before it started

    @property
    def active(self) -> bool:
        return self.chain.status in ACTIVE

    def elapsed_seconds(self, now: datetime | None = None) -> float:
        if self.chain.started_at is None:
            return 0.0
        end = self.chain.finished_at or now or utcnow()
        return max(0.0, (_naive(end) - _naive(self.chain.started_at)).total_seconds())


def _naive(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for the UTC values it was given; compare like with like.
    return moment.replace(tzinfo=None)


def _expected(params: dict[str, object]) -> float:
    try:
        return DemoChainConfig.from_params(params).expected_seconds()
    except ValueError:  # a chain row written by an older version with other fields
        return DemoChainConfig().expected_seconds()


def latest_chain(session: Session) -> ChainProgress | None:
    """The newest demo chain (any user's: the demo pair is shared by everyone), or None if none ran."""
    chains = store.list_jobs(session, kind=JobKind.demo, limit=1)
    if not chains:
        return None
    chain = chains[0]
    step_job = None
    match = _STEP_JOB.search(chain.message or "")
    if match and chain.status in ACTIVE:
        step_job = session.get(Job, int(match.group(1)))
    return ChainProgress(chain=chain, step_job=step_job, expected_seconds=_expected(dict(chain.params)))
