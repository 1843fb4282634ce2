"""Teacher runs, rationales (one sample each), their ordered steps, revisions and reviews."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models.common import RationaleSource, ReviewStatus, ReviewVerdict, TeacherMode, Verdict, utcnow


class TeacherRunBase(SQLModel):
    name: str = Field(max_length=200)
    backend: str = Field(max_length=32)  # transformers, vllm, openai, reference
    model: str = Field(max_length=500)
    mode: TeacherMode = TeacherMode.cot
    prompt_template: str = Field(default="", sa_type=Text)
    few_shot: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    show_gold: bool = False
    calculator: bool = False  # each text written with the calculator (backend.evaluation.generate)
    samples: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: list[str] = Field(default_factory=list, sa_type=JSON)
    seed: int = 0
    price_per_1k_tokens: float = 0.0
    problem_filter: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class TeacherRun(TeacherRunBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", ondelete="CASCADE", index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id", ondelete="SET NULL")
    tokens_in: int = 0
    tokens_out: int = 0
    wall_seconds: float = 0.0
    created_at: datetime = Field(default_factory=utcnow)


_SORT_PAYLOAD = ("dataset_id", "run_id", "split")  # filter columns carried by the sort indexes


class Rationale(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("run_id", "problem_id", "sample_index", name="uq_rationale_sample"),
        # Explore (bench/scale_bench.py). Filter indexes: equality columns first, then what is sorted or
        # grouped on, so the chart GROUP BYs and filtered pages read indexes only.
        Index("ix_rationale_dataset_verdict", "dataset_id", "verdict", "num_steps"),
        Index("ix_rationale_accuracy", "dataset_id", "run_id", "verdict"),
        Index("ix_rationale_run_sort", "run_id", "verdict", "num_steps"),
        Index("ix_rationale_review_progress", "review_status", "dataset_id"),
        Index("ix_rationale_split", "split", "dataset_id"),
        # problem_id first (per-problem lookups, question search), then the filters and sort keys.
        Index(
            "ix_rationale_problem",
            "problem_id",
            "dataset_id",
            "verdict",
            "review_status",
            "num_steps",
            "created_at",
        ),
        # Sort indexes: their leading columns are exactly a page's ORDER BY (explore.SORTS); the columns
        # after id change no order but carry the common filters, so a sorted page is read off the index.
        Index("ix_rationale_review_queue", "review_status", "id", *_SORT_PAYLOAD, "verdict", "num_steps"),
        Index("ix_rationale_steps", "num_steps", "verdict", "id", *_SORT_PAYLOAD, "review_status"),
        Index("ix_rationale_verdict", "verdict", "num_steps", "id", *_SORT_PAYLOAD, "review_status"),
        Index("ix_rationale_created", "created_at", "id", *_SORT_PAYLOAD, "verdict", "review_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    problem_id: int = Field(foreign_key="problem.id", ondelete="CASCADE")
    # Denormalised from the problem so Explore can filter a million rows without a join.
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE")
    split: str = Field(default="", max_length=32)  # denormalised from the problem too
    run_id: int | None = Field(default=None, foreign_key="teacherrun.id", ondelete="CASCADE", index=True)
    source: RationaleSource = RationaleSource.teacher
    sample_index: int = 0
    raw_text: str = Field(default="", sa_type=Text)
    final_answer: str | None = Field(default=None, max_length=500)
    verdict: Verdict = Verdict.unchecked
    logprob: float | None = None
    tokens_out: int = 0
    is_duplicate: bool = False
    error: str | None = Field(default=None, sa_type=Text)
    num_steps: int = 0
    review_status: ReviewStatus = ReviewStatus.unreviewed
    last_reviewer_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    assigned_to_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL", index=True)
    # Optimistic locking: every edit or review bumps it; a save carrying an older version is refused.
    version: int = 1
    current_revision: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Step(SQLModel, table=True):
    """The current content of one step; every change is also kept whole in a Revision."""

    __table_args__ = (UniqueConstraint("rationale_id", "position", name="uq_step_position"),)
    id: int | None = Field(default=None, primary_key=True)
    rationale_id: int = Field(foreign_key="rationale.id", ondelete="CASCADE")
    position: int
    sub_question: str | None = Field(default=None, sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    # [{"expression": "48/2", "claimed": "24", "computed": "24", "ok": true}]
    expressions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    value: str | None = Field(default=None, max_length=200)
    value_correct: bool | None = None


class Revision(SQLModel, table=True):
    """A full snapshot of a rationale after one edit: number 1 is the teacher's original."""

    __table_args__ = (UniqueConstraint("rationale_id", "number", name="uq_revision_number"),)
    id: int | None = Field(default=None, primary_key=True)
    rationale_id: int = Field(foreign_key="rationale.id", ondelete="CASCADE")
    number: int
    author_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    # {"steps": [{"sub_question", "text"}], "final_answer": str|None}
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    comment: str = ""
    reverted_from: int | None = None  # the revision number this one restores, when it is a revert
    # The rationale's version right after this change: maps a version a user saw to the content they saw.
    version: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    # verdict included: annotator agreement pairs reviews from this index alone.
    __table_args__ = (Index("ix_review_rationale", "rationale_id", "reviewer_id", "verdict"),)
    id: int | None = Field(default=None, primary_key=True)
    rationale_id: int = Field(foreign_key="rationale.id", ondelete="CASCADE")
    revision_number: int
    reviewer_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL", index=True)
    verdict: ReviewVerdict
    # PRM800K step ratings: +1 correct and useful, 0 correct but no progress, -1 wrong, None not rated.
    step_ratings: list[int | None] = Field(default_factory=list, sa_type=JSON)
    first_wrong_step: int | None = None  # 0-based; derived from step_ratings (the earliest -1)
    error_tags: list[str] = Field(default_factory=list, sa_type=JSON)  # about the whole rationale
    step_tags: list[list[str]] = Field(default_factory=list, sa_type=JSON)  # per step, same order as steps
    seconds_spent: float | None = None  # time from opening the rationale to this review (capped)
    comment: str = Field(default="", sa_type=Text)
    version: int | None = None  # the rationale's version right after this review
    created_at: datetime = Field(default_factory=utcnow)
