"""Reloading a tab's choices (datasets, runs, sets, checkpoints) on page load and when it is shown."""

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr


def on_show(
    blocks: gr.Blocks,
    tab: gr.Tab,
    fn: Callable[..., Any],
    inputs: Sequence[Any] | None,
    outputs: Sequence[Any],
) -> None:
    """Run `fn` on page load and each time `tab` is selected (new runs and sets appear without a reload)."""
    for trigger in (blocks.load, tab.select):
        trigger(fn, inputs, list(outputs), api_visibility="private", show_progress="hidden")
