"""Step-label exports for process reward models: annotators' per-step ratings as `datasets`-loadable JSONL.

Two shapes, one line per rationale (from a frozen set, or from any filter at each rationale's current
revision):
    processbench  {"id", "problem", "steps": [str], "label": earliest wrong step (0-based) or -1, ...}
                  (ProcessBench's shape); a review counts only if it has a -1 or rated every step, since
                  -1 claims that every step is correct
    prm800k       {"id", "problem", "steps": [{"text", "sub_question", "rating": 1/0/-1/null, "tags"}], ...}
                  (PRM800K's per-step ratings; null where the step was not rated, e.g. after the first
                  error in "stop at the first error" mode)
Every line names the rationale, the revision its labels refer to, the review and the reviewer. Only a
review of exactly the exported revision is used: labels never describe text other than the text exported.
When several annotators rated that revision, the latest review is used.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from backend.sets.curation import CuratedRecord
from backend.sets.exporters import ExportError, export_path, write_jsonl
from db.models import Review, User

STEP_LABEL_FORMATS = ("processbench", "prm800k")


@dataclass(frozen=True)
class StepLabelReport:
    written: int  # lines written
    unlabelled: int  # rationales without a step-rated review of the exported revision
    records: int  # rationales given
    path: Path

    def summary(self) -> str:
        missing = f"; {self.unlabelled:,} had no usable step ratings" if self.unlabelled else ""
        return f"wrote {self.written:,} step-labelled rationales of {self.records:,}{missing} to {self.path}"


def _latest_rated_reviews(
    session: Session, records: Sequence[CuratedRecord]
) -> dict[tuple[int, int], tuple[Review, str]]:
    """(rationale id, revision) -> the latest review of that revision with a step rated, and its reviewer."""
    ids = [record.rationale_id for record in records]
    rows = session.exec(
        select(Review, User.username)
        .outerjoin(User, col(User.id) == Review.reviewer_id)
        .where(col(Review.rationale_id).in_(ids))
        .order_by(col(Review.id))
    ).all()
    latest: dict[tuple[int, int], tuple[Review, str]] = {}
    for review, username in rows:
        if any(rating is not None for rating in review.step_ratings):
            latest[(review.rationale_id, review.revision_number)] = (review, username or "")
    return latest


def _common(record: CuratedRecord, review: Review, reviewer: str) -> dict[str, Any]:
    return {
        "id": f"{record.rationale_id}@r{record.revision_number}",
        "rationale_id": record.rationale_id,
        "revision": record.revision_number,
        "review_id": review.id,
        "reviewer": reviewer,
        "verdict": str(review.verdict),
        "problem": record.question,
        "gold_answer": record.gold_answer or "",
        "final_answer": record.final_answer,
    }


def processbench_line(record: CuratedRecord, review: Review, reviewer: str) -> dict[str, Any] | None:
    """ProcessBench's shape, or None when the ratings cannot say where the first error is."""
    ratings = list(review.step_ratings)[: len(record.steps)]
    if -1 in ratings:
        label = ratings.index(-1)
    elif len(ratings) == len(record.steps) and None not in ratings:
        label = -1
    else:
        return None
    return {**_common(record, review, reviewer), "steps": [s.text for s in record.steps], "label": label}


def prm800k_line(record: CuratedRecord, review: Review, reviewer: str) -> dict[str, Any]:
    ratings, tags = list(review.step_ratings), list(review.step_tags)
    steps = [
        {
            "text": step.text,
            "sub_question": step.sub_question or "",
            "rating": ratings[index] if index < len(ratings) else None,
            "tags": tags[index] if index < len(tags) else [],
        }
        for index, step in enumerate(record.steps)
    ]
    return {**_common(record, review, reviewer), "steps": steps}


def step_label_lines(session: Session, records: Sequence[CuratedRecord], fmt: str) -> list[dict[str, Any]]:
    """One line per record that has usable step ratings for its exact revision, in record order."""
    if fmt not in STEP_LABEL_FORMATS:
        raise ExportError(f"unknown step-label format {fmt!r}; use one of {', '.join(STEP_LABEL_FORMATS)}")
    reviews = _latest_rated_reviews(session, records)
    lines = []
    for record in records:
        found = reviews.get((record.rationale_id, record.revision_number))
        if found is None:
            continue
        line = processbench_line(record, *found) if fmt == "processbench" else prm800k_line(record, *found)
        if line is not None:
            lines.append(line)
    return lines


def export_step_labels(
    session: Session,
    records: Sequence[CuratedRecord],
    *,
    fmt: str,
    path: str | Path,
    allowed_root: Path | None = None,
) -> StepLabelReport:
    """Write the step labels of `records` as JSONL (load with `datasets.load_dataset("json", ...)`)."""
    target = export_path(path, allowed_root=allowed_root)
    lines = step_label_lines(session, records, fmt)
    if not lines:
        raise ExportError(
            f"nothing to export: none of the {len(records):,} rationales has a review with step ratings "
            "of its exported revision (rate steps in Annotate first)"
        )
    if target.is_dir():
        raise ExportError(f"{target} is a folder; give a file name such as {target / 'labels.jsonl'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(target, lines)
    return StepLabelReport(
        written=len(lines), unlabelled=len(records) - len(lines), records=len(records), path=target
    )
