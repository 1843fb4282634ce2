"""Curate: preview a selection, create a set, freeze it, export it (annotators and admins)."""

import re
from typing import Any

import gradio as gr
import pandas as pd
from plotly.graph_objects import Figure

from backend.access import activity
from backend.access.limits import MAX_PATH_CHARS, MAX_PICKS_CHARS, InputRefused, check_length
from backend.queries import catalog
from backend.sets import curation, set_preview
from db.models import CuratedSet, Role, StudentKind, User
from webapp import charts, strings
from webapp.context import AppContext, user_error
from webapp.handlers.filters import to_filter
from webapp.render import inert
from webapp.roles import needs

S = strings.Curate
EXPORT_FORMATS = ["prompt_completion", "messages", "dataset", "processbench", "prm800k"]
STEP_LABEL_FORMATS = ("processbench", "prm800k")  # annotators' step ratings (backend.sets.step_label_export)
KIND_CHOICES = [kind.value for kind in StudentKind]


def parse_picks(text: str | None) -> list[int]:
    """Rationale ids typed as "3, 7 12"; a clear error naming the first bad value."""
    try:
        check_length("the list of picked ids", text or "", MAX_PICKS_CHARS)
    except InputRefused as error:
        raise user_error(str(error)) from error
    picks = []
    for value in re.split(r"[\s,;]+", (text or "").strip()):
        if not value:
            continue
        if not value.isdigit():
            raise user_error(S.BAD_PICK.format(value=value))
        picks.append(int(value))
    return sorted(set(picks))


def _set_id(value: Any) -> int:
    if value in (None, "", 0):
        raise user_error(S.NO_SET)
    return int(value)


class CurateHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    def _selection(
        self, filter_data: dict[str, Any], picks_text: str, use_filter: bool
    ) -> tuple[Any, list[int]]:
        picks = parse_picks(picks_text)
        rationale_filter = to_filter(filter_data) if use_filter else None
        if rationale_filter is None and not picks:
            raise user_error(S.EMPTY_SELECTION)
        return rationale_filter, picks

    @needs(Role.viewer)
    def preview(
        self, filter_data: dict[str, Any], picks_text: str, use_filter: bool
    ) -> tuple[str, Figure, Figure, Figure, dict[str, Any]]:
        rationale_filter, picks = self._selection(filter_data, picks_text, use_filter)
        return self._preview(rationale_filter, picks, S.PREVIEW_SUMMARY)

    def _preview(
        self, rationale_filter: Any, picks: list[int], summary_text: str, **names: Any
    ) -> tuple[str, Figure, Figure, Figure, dict[str, Any]]:
        """Counts, charts and first rows of a selection (a filter and picks, or a set's items)."""
        with self.app.session() as session:
            preview = set_preview.preview_selection(session, rationale_filter=rationale_filter, picks=picks)
            sample = set_preview.sample_rows(session, rationale_filter=rationale_filter, picks=picks)
        summary = summary_text.format(total=preview.total, **names)
        if preview.missing_picks:
            summary += "\n\n" + S.MISSING_PICKS.format(ids=", ".join(map(str, preview.missing_picks)))
        table = pd.DataFrame(sample, columns=S.SAMPLE_HEADERS)
        return (
            summary,
            charts.bar(preview.by_verdict, title=S.CHART_VERDICT),
            charts.bar(preview.by_dataset, title=S.CHART_DATASET),
            charts.bar(preview.by_steps, title=S.CHART_STEPS, x_title="steps"),
            gr.update(value=table, label=S.SAMPLE if sample else S.NO_SAMPLE),
        )

    @needs(Role.viewer)
    def open_set(self, event: gr.SelectData) -> tuple[Any, ...]:
        """A clicked row of the sets table: that set's preview, and the set picked for freeze and export."""
        row = event.row_value or []
        if not row or not str(row[0]).isdigit():
            return (gr.skip(),) * 7
        set_id = int(row[0])
        with self.app.session() as session:
            try:
                curated_set = curation.get_set(session, set_id=set_id)
            except LookupError as error:
                raise user_error(str(error)) from error
            ids = set_preview.set_rationale_ids(session, set_id=set_id)
        state = "frozen" if curated_set.frozen_at else "draft"
        shown = self._preview(None, ids, S.SET_PREVIEW, name=inert(curated_set.name), state=state)
        export_pick = gr.update(value=set_id) if curated_set.frozen_at else gr.skip()  # only frozen export
        return (*shown, gr.update(value=set_id), export_pick)

    @needs(Role.annotator)
    def create(
        self,
        filter_data: dict[str, Any],
        picks_text: str,
        use_filter: bool,
        name: str,
        description: str,
        request: gr.Request,
    ) -> tuple[str, pd.DataFrame, dict[str, Any], dict[str, Any]]:
        user = self.app.require(request, Role.annotator)
        rationale_filter, picks = self._selection(filter_data, picks_text, use_filter)
        with self.app.session() as session:
            try:
                curated_set = curation.create_set(
                    session,
                    name=name or "",
                    rationale_filter=rationale_filter,
                    picks=picks,
                    description=description or "",
                    created_by_id=user.id,
                )
            except ValueError as error:
                raise user_error(str(error)) from error
            assert curated_set.id is not None
            size = curation.set_size(session, set_id=curated_set.id)
        message = inert(S.CREATED.format(name=curated_set.name, size=size))
        return (message, *self.sets(selected=curated_set.id))

    @needs(Role.viewer)
    def sets(self, selected: int | None = None) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
        """The sets table and fresh choices for the set pickers (freeze: all sets; export: frozen ones)."""
        with self.app.session() as session:
            rows = [self._set_row(session, s) for s in catalog.list_sets(session)]
            every = catalog.set_choices(session)
            frozen = catalog.set_choices(session, frozen_only=True)
        frozen_ids = {set_id for _, set_id in frozen}
        return (
            gr.update(value=pd.DataFrame(rows, columns=S.SET_HEADERS), label=S.SETS if rows else S.NO_SETS),
            gr.update(choices=every, value=selected, info=None if every else S.NO_SETS),
            gr.update(
                choices=frozen,
                value=selected if selected in frozen_ids else None,
                info=None if frozen else S.NO_FROZEN_SETS,
            ),
        )

    @staticmethod
    def _set_row(session: Any, curated_set: CuratedSet) -> list[Any]:
        assert curated_set.id is not None
        state = f"frozen {curated_set.frozen_at:%Y-%m-%d %H:%M}" if curated_set.frozen_at else "draft"
        size = curation.set_size(session, set_id=curated_set.id)
        created = f"{curated_set.created_at:%Y-%m-%d %H:%M}"
        return [curated_set.id, curated_set.name, size, state, created, curated_set.description]

    @needs(Role.annotator)
    def freeze(
        self, set_id: Any, request: gr.Request
    ) -> tuple[str, pd.DataFrame, dict[str, Any], dict[str, Any]]:
        self.app.require(request, Role.annotator)
        with self.app.session() as session:
            try:
                curated_set = curation.freeze(session, set_id=_set_id(set_id))
            except (curation.SetFrozen, ValueError, LookupError) as error:
                raise user_error(str(error)) from error
            size = curation.set_size(session, set_id=_set_id(set_id))
        return (inert(S.FROZEN.format(name=curated_set.name, size=size)), *self.sets(selected=curated_set.id))

    def _export_records(self, source: str, set_id: Any, filter_data: dict[str, Any]) -> list[Any]:
        from backend.sets.exporters import records_for_filter

        with self.app.session() as session:
            if source == "filter":
                return records_for_filter(session, rationale_filter=to_filter(filter_data))
            return curation.frozen_records(session, set_id=_set_id(set_id))

    def _record_export(self, user: User, source: str, set_id: Any, fmt: str, path: Any) -> None:
        what = "the filter's matches" if source == "filter" else f"set {set_id}"
        detail = f"{what} as {fmt} to {path}"
        with self.app.session() as session:
            activity.record(session, user=user, action=activity.Action.export, detail=detail)

    @needs(Role.annotator)
    def export(
        self,
        filter_data: dict[str, Any],
        set_id: Any,
        kind: str,
        fmt: str,
        out_path: str,
        source: str,
        request: gr.Request,
    ) -> tuple[str, dict[str, Any]]:
        """Write a frozen set (or the filter's matches) below the export root; a message and the file."""
        from backend.sets.exporters import export_records  # pulls in `datasets` only for an export
        from backend.sets.step_label_export import export_step_labels

        user = self.app.require(request, Role.annotator)
        root = self.app.settings.resolved_export_root
        try:
            check_length("the export path", out_path or "", MAX_PATH_CHARS)
            records = self._export_records(source, set_id, filter_data)
            report: Any
            if fmt in STEP_LABEL_FORMATS:
                with self.app.session() as session:
                    report = export_step_labels(
                        session, records, fmt=fmt, path=out_path or "", allowed_root=root
                    )
            else:
                report = export_records(
                    records, kind=StudentKind(kind), fmt=fmt, path=out_path or "", allowed_root=root
                )
        except (ValueError, LookupError) as error:  # ExportError and PathNotAllowed are ValueErrors
            raise user_error(str(error)) from error
        self._record_export(user, source, set_id, fmt, report.path)
        download = str(report.path) if report.path.is_file() else None
        return inert(report.summary()), gr.update(value=download, visible=download is not None)
