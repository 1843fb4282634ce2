"""Who did what: one row per action worth answering for (job starts and cancels, exports, bulk reviews,
account changes), kept with the actor's name as it was, so the log reads the same after the account goes."""

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from db.models.common import utcnow


class Activity(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    username: str = Field(max_length=64)  # the actor's name when it acted
    action: str = Field(max_length=64)  # a short verb phrase, e.g. "job.start", "export"
    detail: str = Field(default="", sa_type=Text)  # what it acted on, in words
