"""The "Build the demo students" button with what it expects, shown on Step through and Train."""

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.demo import DemoHandlers, expectation
from webapp.pages.job_panel import POLL_SECONDS


def demo_button(app: AppContext, blocks: gr.Blocks, prefix: str) -> gr.Number:
    """The button and its status line, polled while a chain runs (also after a reload). Returns a hidden
    number that takes the id of a chain once it succeeds, for the page to reload its model choices."""
    handlers = DemoHandlers(app)
    with gr.Row():
        button = gr.Button(strings.Demo.BUTTON, variant="secondary", elem_id=f"{prefix}-build-demo", scale=0)
        note = gr.Markdown(expectation(), elem_id=f"{prefix}-build-demo-status")
    ready = gr.Number(value=None, visible=False, elem_id=f"{prefix}-build-demo-ready")
    timer = gr.Timer(POLL_SECONDS, active=False)
    button.click(handlers.build, None, [note, timer], api_name=f"{prefix}_build_demo")
    outputs = [note, timer, ready]
    for trigger in (timer.tick, blocks.load):  # load: a chain started before a reload shows where it stands
        trigger(handlers.poll, ready, outputs, api_visibility="private", show_progress="hidden")
    return ready
