"""Train tab: start a run from a frozen set, watch its loss curve live, compare runs, evaluate."""

import gradio as gr

from backend.evaluation.config import EvalConfig, EvalMethod
from backend.training.config import CompileMode, FilterPolicy, TrainConfig
from db.models import JobKind, StudentKind
from webapp import strings
from webapp.context import AppContext
from webapp.handlers.evaluate import EvaluateHandlers
from webapp.handlers.train import TrainHandlers
from webapp.pages.demo import demo_button
from webapp.pages.job_panel import create_job_panel
from webapp.pages.refresh import on_show
from webapp.pages.rounds import create_round_panel

S = strings.Train
METHODS = [method.value for method in EvalMethod]
T = TrainConfig.default  # the page's defaults are the config's


def _start_form(handlers: TrainHandlers) -> tuple[list[gr.components.Component], gr.Button, gr.Dropdown]:
    with gr.Accordion(S.START_TITLE, open=True):
        with gr.Row():
            set_id = gr.Dropdown(label=S.SET, choices=[], elem_id="train-set")
            kind = gr.Dropdown(
                label=S.KIND,
                choices=[k.value for k in StudentKind],
                value=T("kind").value,
                elem_id="train-kind",
            )
            base_model = gr.Textbox(label=S.BASE_MODEL, value=T("base_model"), elem_id="train-base-model")
            name = gr.Textbox(label=S.NAME, elem_id="train-name")
        with gr.Row():
            epochs = gr.Number(label=S.EPOCHS, value=T("epochs"), minimum=0, elem_id="train-epochs")
            max_steps = gr.Number(
                label=S.MAX_STEPS, value=T("max_steps"), precision=0, elem_id="train-max-steps"
            )
            learning_rate = gr.Number(label=S.LEARNING_RATE, value=T("learning_rate"), elem_id="train-lr")
            batch_size = gr.Number(
                label=S.BATCH_SIZE,
                value=T("batch_size"),
                precision=0,
                minimum=1,
                elem_id="train-batch",
            )
            max_length = gr.Number(
                label=S.MAX_LENGTH,
                value=T("max_length"),
                precision=0,
                minimum=8,
                elem_id="train-max-length",
            )
        with gr.Row():
            lora = gr.Checkbox(label=S.LORA, value=T("lora"), elem_id="train-lora")
            lora_r = gr.Number(
                label=S.LORA_R, value=T("lora_r"), precision=0, minimum=1, elem_id="train-lora-r"
            )
            policy = gr.Dropdown(
                label=S.POLICY,
                choices=[p.value for p in FilterPolicy],
                value=T("filter_policy").value,
                elem_id="train-policy",
            )
            skip_flagged = gr.Checkbox(
                label=S.SKIP_FLAGGED, value=T("skip_flagged_sub_questions"), elem_id="train-skip-flagged"
            )
            device = gr.Dropdown(
                label=S.DEVICE, choices=["auto", "cpu", "cuda"], value=T("device"), elem_id="train-device"
            )
            compile_mode = gr.Dropdown(
                label=S.COMPILE,
                choices=[mode.value for mode in CompileMode],
                value=T("compile").value,
                info=S.COMPILE_HINT,
                elem_id="train-compile",
            )
            start = gr.Button(S.START, variant="primary", elem_id="train-start", elem_classes="action")
    inputs: list[gr.components.Component] = [set_id, kind, base_model, name, epochs, max_steps, learning_rate]
    inputs += [batch_size, max_length, lora, lora_r, policy, skip_flagged, device, compile_mode]
    return inputs, start, set_id


def _evaluate(app: AppContext, blocks: gr.Blocks, tab: gr.Tab, timer: gr.Timer) -> None:
    handlers = EvaluateHandlers(app)
    with gr.Accordion(S.EVAL_TITLE, open=False, elem_id="train-eval"):
        with gr.Row():
            method = gr.Dropdown(
                label=S.METHOD,
                choices=METHODS,
                value=EvalConfig.default("method").value,
                elem_id="eval-method",
            )
            decomposer = gr.Dropdown(
                label=S.DECOMPOSER,
                choices=[],
                allow_custom_value=True,
                info=S.MODEL_HINT,
                elem_id="eval-decomposer",
            )
            solver = gr.Dropdown(
                label=S.SOLVER, choices=[], allow_custom_value=True, info=S.MODEL_HINT, elem_id="eval-solver"
            )
        with gr.Row():
            dataset = gr.Dropdown(label=S.DATASET, choices=[], elem_id="eval-dataset")
            split = gr.Textbox(label=S.SPLIT, elem_id="eval-split")
            limit = gr.Number(label=S.LIMIT, value=10, precision=0, minimum=0, elem_id="eval-limit")
            start = gr.Button(S.EVAL_START, variant="primary", elem_id="eval-start", elem_classes="action")
        message = gr.Markdown(elem_id="eval-message")
        runs = gr.Dataframe(
            headers=S.EVAL_HEADERS, datatype="str", interactive=False, label=S.EVAL_RUNS, elem_id="eval-runs"
        )
    start.click(
        handlers.start,
        [method, decomposer, solver, dataset, split, limit],
        [message, runs],
        api_name="start_evaluation",
    )
    on_show(blocks, tab, handlers.model_choices, None, [decomposer, solver, dataset])
    on_show(blocks, tab, handlers.runs, None, [runs])
    timer.tick(handlers.runs, None, runs, api_visibility="private", show_progress="hidden")


def create_train_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab, timer: gr.Timer) -> None:
    """`timer` ticks while this tab is shown: the live curve, the jobs and the evaluations refresh."""
    handlers = TrainHandlers(app)
    gr.Markdown(S.INTRO)
    demo_button(app, blocks, "train")
    inputs, start, set_pick = _start_form(handlers)
    started = gr.Markdown(elem_id="train-started")
    gr.Markdown(f"### {S.WATCH_TITLE}")
    with gr.Row():
        run = gr.Dropdown(label=S.RUN, choices=[], elem_id="train-run", scale=3)
        refresh = gr.Button(strings.REFRESH, elem_id="train-refresh", elem_classes="action")
    status = gr.Markdown(elem_id="train-status")
    curve = gr.Plot(label=S.CURVE, elem_id="train-curve")
    jobs = create_job_panel(
        app, blocks, (JobKind.train, JobKind.evaluate, JobKind.demo, JobKind.round), "train", timer
    )
    with gr.Accordion(S.HISTORY_TITLE, open=False, elem_id="train-history"):
        compare = gr.Dropdown(label=S.COMPARE, choices=[], multiselect=True, elem_id="train-compare")
        overlay = gr.Plot(label=S.CURVE)
        diff = gr.Dataframe(datatype="str", interactive=False, elem_id="train-diff")
    _evaluate(app, blocks, tab, timer)
    create_round_panel(app, blocks, tab, timer)

    start.click(handlers.start, inputs, [started, run], api_name="start_training")
    watch = [status, curve, jobs.job_id]
    run.change(handlers.watch, [run], watch, api_visibility="private")
    timer.tick(handlers.progress, [run], [status, curve], api_visibility="private", show_progress="hidden")
    refresh.click(handlers.choices, [run], [set_pick, run, compare], api_visibility="private")
    compare.change(handlers.compare, [compare], [overlay, diff], api_visibility="private")
    on_show(blocks, tab, handlers.choices, [run], [set_pick, run, compare])
