"""The "Build the demo students" button with what it expects, shown on Step through and Train."""

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.demo import DemoHandlers, expectation


def demo_button(app: AppContext, prefix: str) -> None:
    handlers = DemoHandlers(app)
    with gr.Row():
        button = gr.Button(strings.Demo.BUTTON, variant="secondary", elem_id=f"{prefix}-build-demo", scale=0)
        note = gr.Markdown(expectation(), elem_id=f"{prefix}-build-demo-status")
    button.click(handlers.build, None, note, api_name=f"{prefix}_build_demo")
