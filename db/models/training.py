"""Training runs, their per-step metrics, registered checkpoints and evaluation runs with traces."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from db.models.common import JobStatus, StudentKind, utcnow


class TrainingRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    job_id: int | None = Field(default=None, foreign_key="job.id", ondelete="SET NULL")
    set_id: int = Field(foreign_key="curatedset.id", ondelete="RESTRICT", index=True)
    student_kind: StudentKind
    base_model: str = Field(max_length=500)
    hyperparams: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    device: str = "cpu"
    status: JobStatus = JobStatus.queued
    output_dir: str = ""
    train_seconds: float = 0.0
    created_at: datetime = Field(default_factory=utcnow)


class TrainingMetric(SQLModel, table=True):
    __table_args__ = (Index("ix_metric_run_step", "run_id", "step"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="trainingrun.id", ondelete="CASCADE")
    step: int
    epoch: float | None = None
    loss: float | None = None
    learning_rate: float | None = None
    tokens_per_second: float | None = None
    eta_seconds: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ModelCheckpoint(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    role: StudentKind
    path: str
    base_model: str = ""
    training_run_id: int | None = Field(default=None, foreign_key="trainingrun.id", ondelete="SET NULL")
    step: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class EvalRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    job_id: int | None = Field(default=None, foreign_key="job.id", ondelete="SET NULL")
    method: str = Field(max_length=32)  # socratic, cot, answer_only, divide_conquer
    # Each model spec: {"checkpoint_id": int} or {"backend": ..., "model": ...}
    decomposer: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    solver: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    problem_filter: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: JobStatus = JobStatus.queued
    n_problems: int = 0
    n_correct: int = 0
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Training problems the contamination check compared with (None: not checked, e.g. teacher models).
    training_problems: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class EvalTrace(SQLModel, table=True):
    __table_args__ = (Index("ix_trace_run_correct", "eval_run_id", "correct"),)
    id: int | None = Field(default=None, primary_key=True)
    eval_run_id: int = Field(foreign_key="evalrun.id", ondelete="CASCADE")
    problem_id: int = Field(foreign_key="problem.id", ondelete="CASCADE", index=True)
    # [{"sub_question": str|None, "answer": str, "tokens": int, "latency_s": float}]
    steps: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    raw_text: str = Field(default="", sa_type=Text)
    final_answer: str | None = None
    correct: bool = False
    parseable: bool = True
    num_steps: int = 0
    tokens: int = 0
    latency_s: float = 0.0
    first_divergent_step: int | None = None
    error_category: str | None = None
    error: str | None = Field(default=None, sa_type=Text)
    # The contamination check (backend.evaluation.contamination): None where it was not run.
    seen_in_training: bool | None = None
    overlap: float | None = None
