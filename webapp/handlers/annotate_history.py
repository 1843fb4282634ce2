"""Annotate: word diffs between revisions, revert, and bulk review over a filter (with a confirmation)."""

from typing import Any

import gradio as gr

from backend import annotation
from backend.access import activity
from backend.access.auth import PermissionDenied
from backend.queries import catalog
from db.models import ReviewVerdict, Role
from webapp import strings
from webapp.context import AppContext, user_error
from webapp.handlers.annotate import BACKEND_ERRORS, rationale_id_of
from webapp.handlers.annotate_screen import Screen, build_screen, conflict_screen
from webapp.handlers.filters import to_filter
from webapp.render import inert
from webapp.roles import needs

S = strings.Annotate


class HistoryHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def compare(self, current: dict[str, Any], before: Any, after: Any) -> list[tuple[str, str | None]]:
        """Word diff from revision `before` to revision `after` (segments for gr.HighlightedText)."""
        if before in (None, "") or after in (None, ""):
            return []
        with self.app.session() as session:
            try:
                return annotation.revision_diff(
                    session, rationale_id=rationale_id_of(current), before=int(before), after=int(after)
                )
            except LookupError as error:
                raise user_error(str(error)) from error

    @needs(Role.viewer)
    def pick_revision(
        self, current: dict[str, Any], before: Any, event: gr.SelectData
    ) -> tuple[Any, Any, list[tuple[str, str | None]]]:
        """A clicked revision row: compare it with the `before` revision and offer it to revert to."""
        row = event.row_value or []
        if not row or not str(row[0]).isdigit():
            return gr.skip(), gr.skip(), []
        number = int(row[0])
        return gr.update(value=number), gr.update(value=number), self.compare(current, before, number)

    @needs(Role.annotator)
    def revert(self, current: dict[str, Any], to_number: Any, request: gr.Request) -> Screen:
        user = self.app.require(request, Role.annotator)
        rationale_id = rationale_id_of(current)
        if to_number in (None, ""):
            raise user_error(S.REVERT_TO)
        with self.app.session() as session:
            try:
                view = annotation.revert(
                    session,
                    rationale_id=rationale_id,
                    to_number=int(to_number),
                    expected_version=int(current["version"]),
                    author=user,
                )
            except annotation.StaleEdit as error:
                return conflict_screen(current, error)
            except BACKEND_ERRORS as error:
                raise user_error(str(error)) from error
            status = S.REVERTED.format(id=rationale_id, number=int(to_number), revision=view.revision_number)
            return build_screen(session, view, status=status)


class BulkHandlers:
    """Two steps: `preview` counts and asks; `confirm` applies exactly what was previewed."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.admin)
    def preview(
        self, filter_data: dict[str, Any], verdict: str, request: gr.Request
    ) -> tuple[dict[str, Any] | None, str, dict[str, Any]]:
        self.app.require(request, Role.admin)
        if verdict not in {v.value for v in ReviewVerdict}:
            raise user_error(f"unknown verdict {verdict!r}")
        rationale_filter = to_filter(filter_data)
        with self.app.session() as session:
            count = catalog.count_rationales(session, rationale_filter=rationale_filter)
        if count == 0:
            return None, S.BULK_NONE, gr.update(visible=False)
        pending = {"filter": rationale_filter.to_json(), "verdict": verdict, "count": count}
        return pending, S.BULK_CONFIRM_TEXT.format(verdict=verdict, count=count), gr.update(visible=True)

    @needs(Role.admin)
    def confirm(
        self, pending: dict[str, Any] | None, request: gr.Request
    ) -> tuple[None, str, dict[str, Any]]:
        user = self.app.require(request, Role.admin)
        if not pending:
            raise user_error(S.BULK_NOTHING_PENDING)
        with self.app.session() as session:
            try:
                count = annotation.bulk_review(
                    session,
                    rationale_filter=to_filter(pending["filter"]),
                    verdict=pending["verdict"],
                    reviewer=user,
                )
            except (ValueError, PermissionDenied) as error:
                raise user_error(str(error)) from error
            detail = f"{pending['verdict']} on {count} rationales"
            activity.record(session, user=user, action=activity.Action.bulk_review, detail=detail)
        message = S.BULK_DONE.format(verdict=inert(pending["verdict"]), count=count)
        return None, message, gr.update(visible=False)

    @needs(Role.admin)
    def cancel(self) -> tuple[None, str, dict[str, Any]]:
        return None, "", gr.update(visible=False)
