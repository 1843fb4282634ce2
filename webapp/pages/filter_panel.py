"""A rationale filter form shared by Explore, Annotate and Curate.

Its values are turned into RationaleFilter JSON in a gr.State by the first step of an event chain, and the
page's handler reads that state in the next step (`.then`), so handlers take one filter argument.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers import filters
from webapp.handlers.filters import FilterHandlers
from webapp.pages.refresh import on_show

S = strings.Filter


@dataclass
class FilterPanel:
    dataset: gr.Dropdown
    split: gr.Dropdown
    run: gr.Dropdown
    source: gr.Dropdown
    verdict: gr.Dropdown
    review_status: gr.Dropdown
    reviewer: gr.Dropdown
    min_steps: gr.Number
    max_steps: gr.Number
    search: gr.Textbox
    queue: gr.Dropdown
    state: gr.State

    @property
    def inputs(self) -> list[Any]:
        """In the order of `filters.filter_json`'s parameters."""
        return [
            self.dataset,
            self.split,
            self.run,
            self.source,
            self.verdict,
            self.review_status,
            self.reviewer,
            self.min_steps,
            self.max_steps,
            self.search,
            self.queue,
        ]

    def on(
        self,
        trigger: Callable[..., Any],
        fn: Callable[..., Any],
        *,
        inputs: Sequence[Any] = (),
        outputs: Sequence[Any] = (),
        api_name: str | None = None,
    ) -> Any:
        """Wire `trigger` (e.g. button.click) to refresh the filter state, then call fn(filter, *inputs)."""
        first = trigger(filters.filter_json, self.inputs, self.state, queue=False, api_visibility="private")
        return first.success(fn, [self.state, *inputs], list(outputs), api_name=api_name)

    def register_choices(self, app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> None:
        """Reload the dropdown choices when the page loads or the tab is shown (new datasets, runs, users)."""
        outputs = [self.dataset, self.split, self.run, self.reviewer, self.queue]
        on_show(blocks, tab, FilterHandlers(app).choices, None, outputs)


def _dropdown(label: str, choices: list[Any], elem_id: str, default: Any) -> gr.Dropdown:
    return gr.Dropdown(label=label, choices=choices, value=default, elem_id=elem_id, min_width=140)


def create_filter_panel(prefix: str, *, open_: bool = True) -> FilterPanel:
    """The form inside an accordion; element ids start with `prefix` (browser tests use them)."""
    any_id, any_text = filters.ANY_ID, filters.ANY_TEXT
    with gr.Accordion(S.TITLE, open=open_, elem_id=f"{prefix}-filter"):
        with gr.Row():
            dataset = _dropdown(S.DATASET, filters.id_choices([]), f"{prefix}-dataset", any_id)
            split = _dropdown(S.SPLIT, filters.text_choices([]), f"{prefix}-split", any_text)
            run = _dropdown(S.RUN, filters.id_choices([]), f"{prefix}-run", any_id)
            source = _dropdown(S.SOURCE, filters.SOURCE_CHOICES, f"{prefix}-source", any_text)
            verdict = _dropdown(S.VERDICT, filters.VERDICT_CHOICES, f"{prefix}-verdict", any_text)
        with gr.Row():
            review_status = _dropdown(S.REVIEW, filters.REVIEW_CHOICES, f"{prefix}-review", any_text)
            reviewer = _dropdown(S.REVIEWER, filters.id_choices([]), f"{prefix}-reviewer", any_id)
            min_steps = gr.Number(label=S.MIN_STEPS, precision=0, minimum=0, elem_id=f"{prefix}-min-steps")
            max_steps = gr.Number(label=S.MAX_STEPS, precision=0, minimum=0, elem_id=f"{prefix}-max-steps")
            search = gr.Textbox(label=S.SEARCH, placeholder=S.SEARCH_PLACEHOLDER, elem_id=f"{prefix}-search")
            queue = _dropdown(S.QUEUE, filters.id_choices([]), f"{prefix}-queue", any_id)
    return FilterPanel(
        dataset,
        split,
        run,
        source,
        verdict,
        review_status,
        reviewer,
        min_steps,
        max_steps,
        search,
        queue,
        gr.State({}),
    )
