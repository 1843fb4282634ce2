"""A jobs table (some kinds) with cancel and resume, refreshed by the tab's gr.Timer."""

from dataclasses import dataclass

import gradio as gr

from db.models import JobKind
from webapp import strings
from webapp.context import AppContext
from webapp.handlers.jobs import JobHandlers

S = strings.Jobs
POLL_SECONDS = 2.0


@dataclass
class JobPanel:
    table: gr.Dataframe
    job_id: gr.Number
    message: gr.Markdown


def create_job_panel(
    app: AppContext, blocks: gr.Blocks, kinds: tuple[JobKind, ...], prefix: str, timer: gr.Timer
) -> JobPanel:
    handlers = JobHandlers(app, kinds)
    table = gr.Dataframe(
        headers=S.HEADERS,
        datatype="str",
        interactive=False,
        label=S.TABLE,
        elem_id=f"{prefix}-jobs",
        max_height=300,
    )
    with gr.Row():
        job_id = gr.Number(label=S.JOB_ID, precision=0, minimum=1, elem_id=f"{prefix}-job-id")
        cancel = gr.Button(S.CANCEL, variant="stop", elem_id=f"{prefix}-cancel", elem_classes="action")
        resume = gr.Button(S.RESUME, elem_id=f"{prefix}-resume", elem_classes="action")
    message = gr.Markdown(elem_id=f"{prefix}-job-message")
    with gr.Accordion(S.LOG, open=False, elem_id=f"{prefix}-job-log-box") as log_box:
        log = gr.Textbox(
            show_label=False, lines=8, max_lines=20, interactive=False, elem_id=f"{prefix}-job-log"
        )
    timer.tick(handlers.table, None, table, api_visibility="private", show_progress="hidden")
    # Clicking a job opens its log and picks it for Cancel / Resume (no id to type).
    table.select(handlers.select, None, [job_id, log, log_box], api_visibility="private")
    cancel.click(handlers.cancel, [job_id], [message, table], api_name=f"{prefix}_cancel_job")
    resume.click(handlers.resume, [job_id], [message, table], api_name=f"{prefix}_resume_job")
    blocks.load(handlers.table, None, table, api_visibility="private", show_progress="hidden")
    return JobPanel(table=table, job_id=job_id, message=message)
