"""Annotation: view a rationale, edit it (optimistic locking, full revisions), review it, walk the queue.

Every write takes the version the user saw; a write against an older version is refused with StaleEdit,
which shows who changed what since then, so no edit is ever silently lost.
"""

from backend.annotation.diff import Segment, content_text, steps_text, word_diff
from backend.annotation.edits import get_revision, list_revisions, revert, save_edit
from backend.annotation.queue import QUEUE_MODES, next_in_queue, previous_in_queue
from backend.annotation.reviews import (
    ERROR_TAGS,
    STEP_RATINGS,
    assign_rationales,
    bulk_review,
    first_wrong,
    review_rationale,
)
from backend.annotation.view import RationaleView, StaleEdit, get_rationale_view, revision_diff

__all__ = [
    "ERROR_TAGS",
    "QUEUE_MODES",
    "STEP_RATINGS",
    "RationaleView",
    "Segment",
    "StaleEdit",
    "assign_rationales",
    "bulk_review",
    "content_text",
    "first_wrong",
    "get_rationale_view",
    "get_revision",
    "list_revisions",
    "next_in_queue",
    "previous_in_queue",
    "revert",
    "review_rationale",
    "revision_diff",
    "save_edit",
    "steps_text",
    "word_diff",
]
