"""The Gradio app: one tab per page, each built by its own `create_<page>_tab` in webapp.pages.

`build_app` only builds the interface; `launch_options` gives what Gradio 6 takes at launch (CSS, the
keyboard-shortcut script, login, and the app object carrying the perimeter, webapp.perimeter), and
`webapp.cli.serve` starts it.
"""

from pathlib import Path
from typing import Any

import gradio as gr
from sqlalchemy.engine import Engine

from db.settings import Settings
from webapp import strings
from webapp.context import AppContext
from webapp.handlers.session import SessionHandlers, TimerSwitch
from webapp.pages.annotate import create_annotate_tab
from webapp.pages.curate import create_curate_tab
from webapp.pages.explore import create_explore_tab
from webapp.pages.failures import create_failures_tab
from webapp.pages.generate import create_generate_tab
from webapp.pages.job_panel import POLL_SECONDS
from webapp.pages.stepthrough import create_stepthrough_tab
from webapp.pages.team import create_team_tab
from webapp.pages.train import create_train_tab
from webapp.perimeter import GRADIO_AUTH, PerimeterApp
from webapp.roles import guard_events

ASSETS = Path(__file__).resolve().parent
STYLE = ASSETS / "style.css"
SHORTCUTS = ASSETS / "shortcuts.js"
# Logging out changes state, so it is a POST (webapp.signin refuses GET /logout); then show the login page.
LOGOUT_JS = "async () => { await fetch('logout', {method: 'POST'}); window.location.reload(); }"


def build_app(engine: Engine, settings: Settings) -> gr.Blocks:
    app = AppContext(engine=engine, settings=settings)
    session_handlers = SessionHandlers(app)
    # Gradio copies each exported file into its cache to serve it, and without delete_cache keeps the
    # copies until the server stops: every 10 minutes, copies older than an hour are deleted.
    with gr.Blocks(title=strings.APP_TITLE, analytics_enabled=False, delete_cache=(600, 3600)) as blocks:
        with gr.Row(elem_id="app-header"):
            gr.Markdown(f"## {strings.APP_TITLE}\n{strings.APP_SUBTITLE}", elem_id="app-title")
            who = gr.Markdown(elem_id="app-user")
            if settings.auth:
                logout = gr.Button(strings.LOGOUT, size="sm", scale=0, elem_id="app-logout")
                logout.click(None, js=LOGOUT_JS)  # in the browser only: no server event to guard
        # Polling timers live outside the tabs (always mounted); each runs only while its tab is shown.
        timers = {tab_id: gr.Timer(POLL_SECONDS, active=False) for tab_id in ("generate", "train")}
        with gr.Tabs(elem_id="main-tabs") as tabs:
            with gr.Tab(strings.TAB_EXPLORE, id="explore", elem_id="tab-explore") as explore_tab:
                explore = create_explore_tab(app, blocks, explore_tab)
            with gr.Tab(strings.TAB_ANNOTATE, id="annotate", elem_id="tab-annotate") as annotate_tab:
                annotate = create_annotate_tab(app, blocks, annotate_tab)
            with gr.Tab(strings.TAB_CURATE, id="curate", elem_id="tab-curate") as curate_tab:
                create_curate_tab(app, blocks, curate_tab)
            with gr.Tab(strings.TAB_GENERATE, id="generate", elem_id="tab-generate") as generate_tab:
                create_generate_tab(app, blocks, generate_tab, timers["generate"])
            with gr.Tab(strings.TAB_TRAIN, id="train", elem_id="tab-train") as train_tab:
                create_train_tab(app, blocks, train_tab, timers["train"])
            with gr.Tab(strings.TAB_STEPTHROUGH, id="stepthrough", elem_id="tab-stepthrough") as step_tab:
                create_stepthrough_tab(app, blocks, step_tab)
            with gr.Tab(strings.TAB_FAILURES, id="failures", elem_id="tab-failures") as failures_tab:
                failures = create_failures_tab(app, blocks, failures_tab)
            with gr.Tab(strings.Team.TAB, id="team", elem_id="tab-team", visible=False) as team_tab:
                create_team_tab(app, blocks, team_tab)  # shown to admins only, on page load
        # Clicking a rationale's row in Explore or Failures opens it in Annotate (no id to type).
        annotate.open_from(explore.picked.success, explore.selected, tabs)
        annotate.open_from(failures.picked.success, failures.rationale_id, tabs)
        every_tab = [explore_tab, annotate_tab, curate_tab, generate_tab, train_tab, step_tab, failures_tab,
                     team_tab]  # fmt: skip
        _switch_timers(every_tab, timers)
        blocks.load(session_handlers.header, None, who, api_visibility="private", show_progress="hidden")
    guard_events(blocks, app)  # every event checks its declared role on the server (webapp.roles)
    return blocks


def _switch_timers(tabs: list[gr.Tab], timers: dict[str, gr.Timer]) -> None:
    """Selecting a tab starts its polling timer and stops every other tab's."""
    switch = TimerSwitch(list(timers))
    for tab in tabs:
        tab.select(switch.showing(str(tab.id)), None, list(timers.values()), api_visibility="private",
                   show_progress="hidden")  # fmt: skip


def launch_options(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch` (Gradio 6 takes CSS, scripts and theme here)."""
    options: dict[str, Any] = {
        "css": STYLE.read_text(encoding="utf-8"),
        "head": f"<script>{SHORTCUTS.read_text(encoding='utf-8')}</script>",
        "theme": gr.themes.Soft(),
        "allowed_paths": [str(settings.resolved_export_root)],  # exported files can be downloaded
        "footer_links": ["api"],
        "run_history": False,  # no call history kept in browsers, no Hugging Face bucket routes
        # Host and Origin checks, login, sessions and upload refusal, outside all of Gradio's own layers.
        "_app": PerimeterApp(engine, settings),
        "max_file_size": "1kb",  # no page takes a file; the perimeter refuses uploads, this is a second lock
        # Gradio's start-up self-probe sends one HEAD with a 3 s timeout and gives up on the first timeout,
        # so a busy 2-core machine failed a healthy server with "set share=True". The server has started
        # listening when launch returns; this app is never shared through a tunnel.
        "_frontend": False,
    }
    if settings.auth:
        options["auth"] = GRADIO_AUTH  # turns Gradio's login page on; the perimeter answers /login
        options["auth_message"] = strings.LOGIN_MESSAGE
    return options
