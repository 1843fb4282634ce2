"""Long work (generation, training, evaluation, imports) as jobs whose state lives here."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from db.models.common import JobKind, JobStatus, utcnow


class Job(SQLModel, table=True):
    __table_args__ = (Index("ix_job_status", "status", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: JobKind
    status: JobStatus = JobStatus.queued
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    done: int = 0
    total: int = 0
    message: str = Field(default="", sa_type=Text)
    error: str | None = Field(default=None, sa_type=Text)
    log_path: str | None = None
    pid: int | None = None
    hostname: str | None = None
    cancel_requested: bool = False
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None
