"""Named annotation queues: a list of rationales put together for review (e.g. one error class of an
evaluation's failures), walked on the Annotate page and frozen on the Curate page like any filter."""

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from db.models.common import utcnow


class AnnotationQueue(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=80)
    description: str = Field(default="", sa_type=Text)  # where its items came from, in words
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class QueueItem(SQLModel, table=True):
    # The primary key makes a rationale a member once; it also serves "the items of a queue" lookups.
    queue_id: int = Field(foreign_key="annotationqueue.id", ondelete="CASCADE", primary_key=True)
    rationale_id: int = Field(foreign_key="rationale.id", ondelete="CASCADE", primary_key=True, index=True)
    added_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    added_at: datetime = Field(default_factory=utcnow)
