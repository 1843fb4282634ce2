"""Enums and helpers shared by the table modules.

No `from __future__ import annotations` in table modules: it breaks SQLModel relationships.
"""

from datetime import UTC, datetime
from enum import StrEnum


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    admin = "admin"
    annotator = "annotator"
    viewer = "viewer"


class Verdict(StrEnum):
    """Automatic check of a rationale's final answer against the gold answer."""

    correct = "correct"
    wrong = "wrong"
    unparseable = "unparseable"
    unchecked = "unchecked"  # no gold answer to compare with
    failed = "failed"  # the backend request failed; `error` says why


class ReviewStatus(StrEnum):
    unreviewed = "unreviewed"
    accepted = "accepted"
    rejected = "rejected"
    flagged = "flagged"


class ReviewVerdict(StrEnum):
    accept = "accept"
    reject = "reject"
    flag = "flag"


class RationaleSource(StrEnum):
    reference = "reference"  # the dataset's own solution (GSM8K, reasoning-gym)
    teacher = "teacher"  # a teacher run's sample
    student = "student"  # saved from a step-through session
    manual = "manual"  # written by a person


class TeacherMode(StrEnum):
    cot = "cot"
    socratic = "socratic"
    rationalize = "rationalize"
    decompose = "decompose"


class StudentKind(StrEnum):
    answer_only = "answer_only"
    cot = "cot"
    decomposer = "decomposer"
    solver = "solver"
    unified = "unified"
    decompose_only = "decompose_only"


class JobKind(StrEnum):
    generate = "generate"
    train = "train"
    evaluate = "evaluate"
    import_data = "import"
    demo = "demo"  # "Build the demo students": a chain of the kinds above (backend.demo.chain)
    round = "round"  # a training round: sample, keep, retrain, compare (backend.rounds.chain)


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)
