"""Job rows for the pages that start long work: a table polled by gr.Timer, cancel and resume."""

from typing import Any

import gradio as gr
import pandas as pd

from backend.access import activity, auth
from backend.jobs import failure, queue, runner, store
from db.models import Job, JobKind, Role
from webapp import strings
from webapp.context import AppContext, user_error
from webapp.roles import needs

S = strings.Jobs


def progress_text(job: Job) -> str:
    if not job.total:
        return "-"
    return f"{job.done}/{job.total} ({100 * job.done / job.total:.0f}%)"


def job_row(job: Job, place: int | None = None) -> list[Any]:
    """A table row; a job waiting for a free slot (backend.jobs.queue) shows its place in line."""
    created = f"{job.created_at:%Y-%m-%d %H:%M:%S}"
    status = f"{job.status} (#{place} in line)" if place else str(job.status)
    return [job.id, str(job.kind), status, progress_text(job), job.message[:120], created]


def _job_id(value: Any) -> int:
    if value in (None, "", 0):
        raise user_error(S.NO_JOB)
    return int(value)


class JobHandlers:
    """One instance per page, showing that page's kinds of job."""

    def __init__(self, app: AppContext, kinds: tuple[JobKind, ...]) -> None:
        self.app, self.kinds = app, kinds

    def rows(self) -> pd.DataFrame:
        with self.app.session() as session:
            jobs = [job for kind in self.kinds for job in store.list_jobs(session, kind=kind, limit=20)]
            store.fail_orphans_among(session, jobs)
            if any(queue.is_waiting(job) for job in jobs):  # a killed worker started nobody's next job
                runner.start_waiting(self.app.engine, database_url=self.app.database_url)
            places = queue.places_in_line(session)
        jobs.sort(key=lambda job: job.id or 0, reverse=True)
        return pd.DataFrame([job_row(job, places.get(job.id or 0)) for job in jobs[:20]], columns=S.HEADERS)

    @needs(Role.viewer)
    def table(self) -> dict[str, Any]:
        """The jobs table; empty, its label says what would fill it."""
        rows = self.rows()
        return gr.update(value=rows, label=f"{S.TABLE}: {S.TABLE_HINT}" if len(rows) else S.NO_JOBS)

    @needs(Role.viewer)
    def select(self, event: gr.SelectData, request: gr.Request) -> tuple[int | None, str, Any]:
        """The clicked job: its id (for cancel and resume), its error or log tail, and the log opened."""
        row = event.row_value or []
        job_id = int(row[0]) if row and str(row[0]).isdigit() else None
        admin = auth.has_role(self.app.current_user(request), Role.admin)
        return job_id, self.log(job_id, admin=admin), gr.update(open=job_id is not None)

    def log(self, job_id: Any, *, admin: bool = False) -> str:
        """An admin reads the error and the log's tail (tracebacks, paths); others one line, paths hidden."""
        if not job_id:
            return ""
        with self.app.session() as session:
            try:
                job = store.get_job(session, job_id=int(job_id))
            except LookupError as error:
                raise user_error(str(error)) from error
        tail = store.read_log_tail(job.log_path)
        if admin:
            return "\n\n".join(part for part in (job.error, tail) if part)
        return failure.for_viewers(job.error) if job.error else failure.hide_paths(tail)

    @needs(Role.annotator)
    def cancel(self, job_id: Any, request: gr.Request) -> tuple[str, dict[str, Any]]:
        user = self.app.require(request, Role.annotator)
        with self.app.session() as session:
            try:
                job = store.request_cancel(session, job_id=_job_id(job_id))
            except LookupError as error:
                raise user_error(str(error)) from error
            activity.record_job(session, user=user, job=job, action=activity.Action.job_cancel)
        return S.CANCELLED.format(job_id=job.id, status=job.status), self.table()

    @needs(Role.annotator)
    def resume(self, job_id: Any, request: gr.Request) -> tuple[str, dict[str, Any]]:
        """Queue a failed or cancelled job again and start its worker; it skips what is already stored."""
        user = self.app.require(request, Role.annotator)
        with self.app.session() as session:
            try:
                job = store.reset_for_resume(session, job_id=_job_id(job_id))
            except (LookupError, ValueError) as error:
                raise user_error(str(error)) from error
            activity.record_job(session, user=user, job=job, action=activity.Action.job_resume)
        assert job.id is not None
        self.app.spawn(job.id)
        return S.RESUMED.format(job_id=job.id), self.table()
