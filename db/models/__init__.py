"""All tables, imported here so SQLModel.metadata (and Alembic) sees every one."""

from db.models.activity import Activity
from db.models.common import (
    JobKind,
    JobStatus,
    RationaleSource,
    ReviewStatus,
    ReviewVerdict,
    Role,
    StudentKind,
    TeacherMode,
    Verdict,
    utcnow,
)
from db.models.curation import CuratedItem, CuratedSet
from db.models.dataset import Dataset, Problem
from db.models.job import Job
from db.models.queue import AnnotationQueue, QueueItem
from db.models.rationale import Rationale, Review, Revision, Step, TeacherRun
from db.models.training import EvalRun, EvalTrace, ModelCheckpoint, TrainingMetric, TrainingRun
from db.models.user import User, UserPublic

__all__ = [
    "Activity",
    "AnnotationQueue",
    "CuratedItem",
    "CuratedSet",
    "Dataset",
    "EvalRun",
    "EvalTrace",
    "Job",
    "JobKind",
    "JobStatus",
    "ModelCheckpoint",
    "Problem",
    "QueueItem",
    "Rationale",
    "RationaleSource",
    "Review",
    "ReviewStatus",
    "ReviewVerdict",
    "Revision",
    "Role",
    "Step",
    "StudentKind",
    "TeacherMode",
    "TeacherRun",
    "TrainingMetric",
    "TrainingRun",
    "User",
    "UserPublic",
    "Verdict",
    "utcnow",
]
