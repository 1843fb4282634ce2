"""Explore: one page of the rationale table, the dataset/run overview, and the charts (read-only)."""

import math
from collections import defaultdict
from typing import Any

import gradio as gr
import pandas as pd

from backend.queries import explore
from db.models import Role
from webapp import charts, strings
from webapp.context import AppContext, user_error
from webapp.handlers.filters import ANY_ID, to_filter
from webapp.roles import needs

S = strings.Explore


@needs(Role.viewer)
def previous_page(page: float | None) -> int:
    """Pages are 1-based; Previous stops at 1 (Next past the end shows the last page, see `page`)."""
    return max(1, int(page or 1) - 1)


@needs(Role.viewer)
def next_page(page: float | None) -> int:
    return max(1, int(page or 1) + 1)


def _stacked(rows: list[dict[str, Any]], *, group: str, series: str) -> dict[str, dict[Any, float]]:
    result: dict[str, dict[Any, float]] = defaultdict(dict)
    for row in rows:
        result[str(row[series])][row[group]] = row["count"]
    return dict(result)


class ExploreHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def page(
        self, filter_data: dict[str, Any], sort: str, descending: bool, page: float | None, page_size: Any
    ) -> tuple[dict[str, Any], str, int]:
        """Rows of the 1-based `page`; a page past the end shows the last one."""
        size = int(page_size or 50)
        number = max(1, int(page or 1))
        rationale_filter = to_filter(filter_data)
        try:
            with self.app.session() as session:
                rows, total = explore.page_rationales(
                    session,
                    rationale_filter=rationale_filter,
                    sort=sort or "id",
                    descending=bool(descending),
                    page=number - 1,
                    page_size=size,
                )
                pages = max(1, math.ceil(min(total, explore.COUNT_CAP) / size))
                if not rows and number > pages:
                    return self.page(filter_data, sort, descending, pages, size)
        except ValueError as error:
            raise user_error(str(error)) from error
        summary = S.SUMMARY.format(total=explore.format_total(total), page=number, pages=pages)
        table = pd.DataFrame(rows, columns=S.HEADERS)
        return gr.update(value=table, label=S.TABLE if rows else S.NO_ROWS), summary, number

    @needs(Role.viewer)
    def select(self, event: gr.SelectData) -> int | None:
        """The rationale id of the clicked row (the table's first column)."""
        row = event.row_value or []
        return int(row[0]) if row and str(row[0]).isdigit() else None

    @needs(Role.viewer)
    def overview(self) -> dict[str, Any]:
        with self.app.session() as session:
            rows = explore.accuracy_by_run(session)
        for row in rows:
            row["accuracy"] = "" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
            row["run_id"] = "" if row["run_id"] is None else row["run_id"]  # no run: a reference or manual
        table = pd.DataFrame(rows, columns=S.RUN_HEADERS)
        return gr.update(value=table, label=f"{S.RUNS_TITLE}: {S.RUNS_HINT}" if rows else S.NO_RUNS)

    @needs(Role.viewer)
    def pick_run(self, event: gr.SelectData) -> tuple[Any, Any]:
        """A clicked dataset / run row: the filter's dataset and run set to it (then the table reloads)."""
        row = dict(zip(S.RUN_HEADERS, event.row_value or [], strict=False))
        dataset_id = str(row.get("dataset_id", ""))
        if not dataset_id.isdigit():
            raise user_error(S.NO_RUNS)
        run_id = str(row.get("run_id", ""))
        return gr.update(value=int(dataset_id)), gr.update(value=int(run_id) if run_id.isdigit() else ANY_ID)

    @needs(Role.viewer)
    def charts(self, filter_data: dict[str, Any]) -> tuple[Any, ...]:
        """The five charts and the agreement table; an empty chart says what would fill it."""
        rationale_filter = to_filter(filter_data)
        with self.app.session() as session:
            accuracy = explore.accuracy_by_run(session)
            steps = explore.step_count_histogram(session, rationale_filter=rationale_filter)
            progress = explore.review_progress(session)
            agreement = explore.annotator_agreement(session)
            per_hour = explore.reviews_per_hour(session)
        by_run: dict[str, dict[Any, float]] = defaultdict(dict)
        for row in accuracy:
            if row["accuracy"] is not None:
                by_run[row["run"]][row["dataset"]] = round(100 * row["accuracy"], 1)
        pairs = agreement["pairs"]
        kappas = {f"{p['annotator_a']} / {p['annotator_b']}": p["kappa"] or 0.0 for p in pairs}
        table = pd.DataFrame([*pairs, agreement["overall"]] if pairs else [], columns=S.AGREEMENT_HEADERS)
        rates = {row["annotator"]: round(row["per_hour"], 1) for row in per_hour}
        return (
            charts.grouped_bars(
                by_run, title=S.CHART_ACCURACY, x_title="dataset", y_title="% correct", empty=S.EMPTY_ACCURACY
            ),
            charts.grouped_bars(
                _stacked(steps, group="num_steps", series="verdict"),
                title=S.CHART_STEPS,
                x_title="steps",
                stacked=True,
                empty=S.EMPTY_STEPS,
            ),
            charts.grouped_bars(
                _stacked(progress, group="dataset", series="review_status"),
                title=S.CHART_REVIEW,
                stacked=True,
                empty=S.EMPTY_REVIEW,
            ),
            charts.bar(kappas, title=S.CHART_AGREEMENT, y_title="kappa", empty=S.EMPTY_AGREEMENT),
            charts.bar(rates, title=S.CHART_PER_HOUR, y_title="reviews / hour", empty=S.EMPTY_PER_HOUR),
            gr.update(value=table, label=S.AGREEMENT if pairs else S.EMPTY_AGREEMENT),
        )
