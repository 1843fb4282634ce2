"""Annotate: walk the queue, edit steps, review, resolve a refused save, compare and revert revisions.

Every write checks the role here (annotator or admin) before the backend checks it again; a save made
against an older version comes back as a conflict screen that keeps the user's text.
"""

import time
from dataclasses import dataclass
from typing import Any

import gradio as gr
from sqlmodel import Session

from backend import annotation
from backend.access.auth import PermissionDenied
from backend.access.limits import MAX_ANSWER_CHARS, MAX_COMMENT_CHARS, check_length
from backend.student_formats import StepText
from db.models import Role, User
from webapp import strings
from webapp.context import AppContext, user_error
from webapp.handlers.annotate_ratings import StepLabels, parse_labels
from webapp.handlers.annotate_screen import Screen, build_screen, conflict_screen, unchanged
from webapp.handlers.filters import to_filter
from webapp.handlers.step_table import parse_steps
from webapp.roles import needs

S = strings.Annotate
BACKEND_ERRORS = (ValueError, LookupError, PermissionDenied)


@dataclass
class ReviewForm:
    """What the review buttons send besides the open rationale: the editor's fields and the options."""

    table: Any
    final_answer: str
    labels: Any  # the rating panel's JSON (see annotate_ratings)
    tags: list[str] | None
    comment: str
    advance: bool
    mode: str
    stop_at_error: bool


def rationale_id_of(current: dict[str, Any] | None) -> int:
    if not current or not current.get("rationale_id"):
        raise user_error(S.NOTHING_OPEN)
    return int(current["rationale_id"])


def _seconds_since(current: dict[str, Any]) -> float | None:
    """Time since the page opened the rationale; `opened_at` comes back from the browser, so it is checked
    (not a number, or in the future: no time is recorded; the backend caps long idle times)."""
    opened = current.get("opened_at")
    if isinstance(opened, bool) or not isinstance(opened, (int, float)):
        return None
    elapsed = time.time() - float(opened)
    return elapsed if elapsed >= 0 else None


def _labels(raw: Any, num_steps: int, stop_at_error: bool) -> StepLabels:
    labels = parse_labels(raw, num_steps)
    return labels.stopped_at_first_error() if stop_at_error else labels


def _same_content(view: annotation.RationaleView, steps: list[StepText], final_answer: str | None) -> bool:
    stored = [(s.sub_question or "", s.text.strip()) for s in view.steps]
    typed = [(s.sub_question or "", s.text.strip()) for s in steps]
    return stored == typed and (view.final_answer or "") == (final_answer or "").strip()


def _check_texts(final_answer: str | None, comment: str | None) -> None:
    """The typed final answer and comment, bounded (InputRefused, a ValueError, names which)."""
    check_length("the final answer", final_answer or "", MAX_ANSWER_CHARS)
    check_length("the comment", comment or "", MAX_COMMENT_CHARS)


def _opened_at(current: dict[str, Any]) -> float | None:
    """The checked opening time to carry over a save (None starts the clock again)."""
    return float(current["opened_at"]) if _seconds_since(current) is not None else None


class AnnotateHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    def _screen(self, session: Session, rationale_id: int, status: str = "") -> Screen:
        try:
            view = annotation.get_rationale_view(session, rationale_id=rationale_id)
        except LookupError as error:
            raise user_error(str(error)) from error
        return build_screen(session, view, status=status)

    @needs(Role.viewer)
    def open(self, rationale_id: Any) -> Screen:
        if not rationale_id:
            raise user_error(S.NOTHING_OPEN)
        with self.app.session() as session:
            return self._screen(session, int(rationale_id))

    def _find(
        self,
        session: Session,
        user: User,
        here: int | None,
        mode: str,
        filter_data: dict[str, Any],
        step: int,
    ) -> int | None:
        rationale_filter = to_filter(filter_data) if filter_data else None
        try:
            if step > 0:
                return annotation.next_in_queue(
                    session, user=user, rationale_filter=rationale_filter, after_id=here, mode=mode
                )
            return annotation.previous_in_queue(
                session, user=user, rationale_filter=rationale_filter, before_id=here, mode=mode
            )
        except ValueError as error:
            raise user_error(str(error)) from error

    def _walk(
        self,
        current: dict[str, Any] | None,
        mode: str,
        filter_data: dict[str, Any],
        request: gr.Request,
        step: int,
    ) -> Screen:
        user = self.app.current_user(request)
        if user is None:
            raise user_error(strings.Annotate.NOTHING_OPEN)
        here = (current or {}).get("rationale_id")
        with self.app.session() as session:
            found = self._find(session, user, here, mode, filter_data, step)
            if found is None:
                return unchanged(status=S.END_OF_QUEUE if here else S.EMPTY_QUEUE)
            return self._screen(session, found)

    @needs(Role.viewer)
    def next(
        self, filter_data: dict[str, Any], current: dict[str, Any], mode: str, request: gr.Request
    ) -> Screen:
        return self._walk(current, mode, filter_data, request, +1)

    @needs(Role.viewer)
    def previous(
        self, filter_data: dict[str, Any], current: dict[str, Any], mode: str, request: gr.Request
    ) -> Screen:
        return self._walk(current, mode, filter_data, request, -1)

    def _save(
        self,
        session: Session,
        user: User,
        rationale_id: int,
        version: int,
        table: Any,
        answer: str,
        comment: str,
    ) -> annotation.RationaleView:
        steps = parse_steps(table)
        _check_texts(answer, comment)
        return annotation.save_edit(
            session,
            rationale_id=rationale_id,
            expected_version=version,
            steps=steps,
            final_answer=answer,
            author=user,
            comment=comment or "",
        )

    @needs(Role.annotator)
    def save(
        self, current: dict[str, Any], table: Any, final_answer: str, comment: str, request: gr.Request
    ) -> Screen:
        """Store the edited steps as a new revision (refused as a conflict if someone changed it since)."""
        user = self.app.require(request, Role.annotator)
        rationale_id = rationale_id_of(current)
        steps = parse_steps(table)
        with self.app.session() as session:
            try:
                stored = annotation.get_rationale_view(session, rationale_id=rationale_id)
                if _same_content(stored, steps, final_answer) and stored.version == current["version"]:
                    return unchanged(status=S.UNCHANGED)
                view = self._save(
                    session, user, rationale_id, current["version"], table, final_answer, comment
                )
            except annotation.StaleEdit as error:
                return conflict_screen(current, error)
            except BACKEND_ERRORS as error:
                raise user_error(str(error)) from error
            saved = S.SAVED.format(id=rationale_id, revision=view.revision_number)
            return build_screen(session, view, status=saved, opened_at=_opened_at(current))

    @needs(Role.annotator)
    def keep_mine(
        self, current: dict[str, Any], table: Any, final_answer: str, comment: str, request: gr.Request
    ) -> Screen:
        """After a conflict: save the user's text on top of the newer version they have now seen."""
        newer = (current or {}).get("conflict_version")
        if newer is None:
            raise user_error(S.NOTHING_OPEN)
        return self.save({**current, "version": newer}, table, final_answer, comment, request)

    @needs(Role.viewer)
    def load_theirs(self, current: dict[str, Any]) -> Screen:
        return self.open(rationale_id_of(current))

    def _record(
        self, session: Session, user: User, verdict: str, current: dict[str, Any], form: "ReviewForm"
    ) -> tuple[annotation.RationaleView, Any]:
        """Save pending edits (if any), then record the review of what is now stored."""
        rationale_id = rationale_id_of(current)
        steps = parse_steps(form.table)
        _check_texts(form.final_answer, form.comment)
        view = annotation.get_rationale_view(session, rationale_id=rationale_id)
        version = current["version"]
        labels = _labels(form.labels, len(steps), form.stop_at_error)
        if not _same_content(view, steps, form.final_answer):
            view = self._save(
                session, user, rationale_id, version, form.table, form.final_answer, form.comment
            )
            version = view.version
        review = annotation.review_rationale(
            session,
            rationale_id=rationale_id,
            expected_version=version,
            verdict=verdict,
            reviewer=user,
            step_ratings=labels.ratings,
            error_tags=form.tags or [],
            step_tags=labels.step_tags,
            comment=form.comment or "",
            seconds_spent=_seconds_since(current),
        )
        return view, review

    def _review(
        self,
        verdict: str,
        current: dict[str, Any],
        form: "ReviewForm",
        filter_data: dict[str, Any],
        request: gr.Request,
    ) -> Screen:
        user = self.app.require(request, Role.annotator)
        rationale_id = rationale_id_of(current)
        with self.app.session() as session:
            try:
                view, review = self._record(session, user, verdict, current, form)
            except annotation.StaleEdit as error:
                return conflict_screen(current, error)
            except BACKEND_ERRORS as error:
                raise user_error(str(error)) from error
            wrong = review.first_wrong_step
            status = S.REVIEWED.format(
                verdict=verdict,
                id=rationale_id,
                revision=view.revision_number,
                first_wrong=S.NO_WRONG_STEP if wrong is None else wrong + 1,
            )
            advance = form.advance
            found = self._find(session, user, rationale_id, form.mode, filter_data, +1) if advance else None
            if advance and found is None:
                status = f"{status} {S.END_OF_QUEUE}"
            return self._screen(session, found or rationale_id, status=status)

    @needs(Role.annotator)
    def accept(
        self,
        filter_data: dict[str, Any],
        current: dict[str, Any],
        table: Any,
        final_answer: str,
        labels: Any,
        tags: list[str] | None,
        comment: str,
        advance: bool,
        mode: str,
        stop_at_error: bool,
        request: gr.Request,
    ) -> Screen:
        form = ReviewForm(
            table, final_answer, labels, tags, comment, bool(advance), mode, bool(stop_at_error)
        )
        return self._review("accept", current, form, filter_data, request)

    @needs(Role.annotator)
    def reject(
        self,
        filter_data: dict[str, Any],
        current: dict[str, Any],
        table: Any,
        final_answer: str,
        labels: Any,
        tags: list[str] | None,
        comment: str,
        advance: bool,
        mode: str,
        stop_at_error: bool,
        request: gr.Request,
    ) -> Screen:
        form = ReviewForm(
            table, final_answer, labels, tags, comment, bool(advance), mode, bool(stop_at_error)
        )
        return self._review("reject", current, form, filter_data, request)

    @needs(Role.annotator)
    def flag(
        self,
        filter_data: dict[str, Any],
        current: dict[str, Any],
        table: Any,
        final_answer: str,
        labels: Any,
        tags: list[str] | None,
        comment: str,
        advance: bool,
        mode: str,
        stop_at_error: bool,
        request: gr.Request,
    ) -> Screen:
        form = ReviewForm(
            table, final_answer, labels, tags, comment, bool(advance), mode, bool(stop_at_error)
        )
        return self._review("flag", current, form, filter_data, request)
