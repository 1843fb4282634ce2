"""Curated sets: a named selection of rationales; once frozen, items pin exact revisions forever."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models.common import utcnow


class CuratedSet(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=200)
    description: str = ""
    filter: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    frozen_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class CuratedItem(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("set_id", "rationale_id", name="uq_item_rationale"),)
    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="curatedset.id", ondelete="CASCADE", index=True)
    rationale_id: int = Field(foreign_key="rationale.id", ondelete="RESTRICT")
    revision_number: int | None = None  # pinned at freeze time
    # Frozen copy of the revision content, so a frozen set never changes even if revisions are pruned.
    content: dict[str, Any] | None = Field(default=None, sa_type=JSON)
