"""Datasets and their problems (question, gold answer, gold solution and steps)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models.common import utcnow


class Dataset(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=200)
    source: str = Field(max_length=64)  # gsm8k, svamp, strategyqa, reasoning_gym, jsonl, csv, hf
    answer_type: str = Field(default="numeric", max_length=32)  # numeric, yes_no, choice, text
    description: str = ""
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)


class ProblemBase(SQLModel):
    split: str = Field(default="test", max_length=32)
    external_id: str = Field(max_length=200)
    question: str = Field(sa_type=Text)
    gold_answer_raw: str = Field(default="", sa_type=Text)
    gold_answer: str | None = Field(default=None, max_length=200)  # normalised, e.g. "72" or "yes"
    gold_solution: str | None = Field(default=None, sa_type=Text)
    # Each gold step: {"sub_question": str|None, "text": str, "expressions": [...], "value": str|None}
    gold_steps: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    num_gold_steps: int = 0
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class Problem(ProblemBase, table=True):
    __table_args__ = (
        UniqueConstraint("dataset_id", "split", "external_id", name="uq_problem_external"),
        Index("ix_problem_dataset_split", "dataset_id", "split"),
    )
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE")
    content_hash: str = Field(max_length=64)  # sha256 of question+answer: re-imports detect changes
    created_at: datetime = Field(default_factory=utcnow)
