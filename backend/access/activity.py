"""Who did what: the activity log that admins read on the Team page.

Handlers and the account functions call `record` with the acting user right after the action; the row
keeps the actor's name as it was, so it reads the same after the account is renamed away or removed.
"""

from collections.abc import Sequence
from enum import StrEnum

from sqlmodel import Session, col, func, select

from db.models import Activity, Job, User

COMMAND_LINE = "(command line)"  # the actor of changes made with `socratic-studio users ...`
MAX_DETAIL = 500  # details name things (a job, a set, a user); longer text is cut, never refused


class Action(StrEnum):
    job_start = "job started"
    job_cancel = "job cancel requested"
    job_resume = "job resumed"
    export = "export"
    bulk_review = "bulk review"
    user_add = "account added"
    user_role = "role changed"
    user_disable = "account disabled"
    user_enable = "account enabled"
    user_remove = "account removed"
    user_password = "password reset"


def record(session: Session, *, user: User | None, action: Action, detail: str = "") -> Activity:
    """Store one entry and commit it; `user` None means the command line (no web account acted)."""
    entry = Activity(
        user_id=user.id if user is not None else None,
        username=user.username if user is not None else COMMAND_LINE,
        action=action.value,
        detail=detail[:MAX_DETAIL],
    )
    session.add(entry)
    session.commit()
    return entry


def record_job(
    session: Session, *, user: User | None, job: Job, action: Action = Action.job_start
) -> Activity:
    """A job's start, cancel or resume, named by kind and id as the job tables show it."""
    return record(session, user=user, action=action, detail=f"{job.kind} job {job.id}")


def recent(session: Session, *, limit: int = 50, offset: int = 0) -> Sequence[Activity]:
    """Entries newest first; `offset` pages back through older ones."""
    query = select(Activity).order_by(col(Activity.created_at).desc(), col(Activity.id).desc())
    return session.exec(query.offset(max(offset, 0)).limit(max(limit, 0))).all()


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Activity)).one()
