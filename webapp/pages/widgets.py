"""Component shorthands the tabs share: plain-text tables and fields (untrusted text stays inert) and
compact action buttons."""

from typing import Any

import gradio as gr


def action(label: str, elem_id: str, variant: str = "secondary") -> gr.Button:
    """A button beside form fields, aligned with their bottom edge (style.css `.action`)."""
    return gr.Button(label, variant=variant, elem_id=elem_id, elem_classes="action")  # type: ignore[arg-type]


def text_table(headers: list[str] | None, elem_id: str, **options: Any) -> gr.Dataframe:
    """A read-only table whose cells are plain strings (never Markdown or HTML)."""
    return gr.Dataframe(headers=headers, datatype="str", interactive=False, elem_id=elem_id, **options)


def readonly(label: str, elem_id: str, **options: Any) -> gr.Textbox:
    """A read-only text field: questions and answers are shown exactly as stored."""
    return gr.Textbox(label=label, interactive=False, elem_id=elem_id, **options)
