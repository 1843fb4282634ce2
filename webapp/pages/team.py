"""Team tab (admins only): accounts with role and status, the changes an admin makes, and the activity list.

The tab starts hidden; `create_team_tab` shows it on page load to admins only, and every handler refuses
anyone else on the server (webapp.handlers.team).
"""

from typing import Any

import gradio as gr

from webapp import strings
from webapp.context import AppContext
from webapp.handlers.team import ROLE_CHOICES, TeamHandlers
from webapp.pages.widgets import action, text_table

S = strings.Team


def _accounts() -> dict[str, Any]:
    c: dict[str, Any] = {}
    gr.Markdown(f"### {S.ACCOUNTS}")
    c["accounts"] = text_table(S.ACCOUNT_HEADERS, "team-accounts", max_height=300)
    with gr.Row():
        c["account"] = gr.Dropdown(label=S.ACCOUNT, choices=[], elem_id="team-account")
        c["role"] = gr.Dropdown(label=S.ROLE, choices=ROLE_CHOICES, value=None, elem_id="team-role")
        c["set_role"] = action(S.SET_ROLE, "team-set-role", "primary")
        c["disable"] = action(S.DISABLE, "team-disable")
        c["enable"] = action(S.ENABLE, "team-enable")
        c["remove"] = action(S.REMOVE, "team-remove", "stop")
    with gr.Row():
        c["password"] = gr.Textbox(label=S.PASSWORD, type="password", elem_id="team-password")
        c["set_password"] = action(S.SET_PASSWORD, "team-set-password")
    c["status"] = gr.Markdown(elem_id="team-status")
    c["pending"] = gr.State("")  # the account named in the removal question
    with gr.Row(visible=False) as c["confirm_row"]:
        c["confirm_text"] = gr.Markdown(elem_id="team-remove-question")
        c["confirm"] = action(S.REMOVE_CONFIRM, "team-remove-confirm", "stop")
        c["cancel"] = action(S.REMOVE_CANCEL, "team-remove-cancel")
    return c


def _activity() -> dict[str, Any]:
    c: dict[str, Any] = {}
    gr.Markdown(f"### {S.ACTIVITY}")
    c["activity"] = text_table(S.ACTIVITY_HEADERS, "team-activity", wrap=True, max_height=500)
    with gr.Row():
        c["newer"] = action(S.NEWER, "team-newer")
        c["page_label"] = gr.Markdown(elem_id="team-page")
        c["older"] = action(S.OLDER, "team-older")
    c["page"] = gr.State(1)
    return c


def create_team_tab(app: AppContext, blocks: gr.Blocks, tab: gr.Tab) -> None:
    handlers = TeamHandlers(app)
    gr.Markdown(S.INTRO)
    c = {**_accounts(), **_activity()}
    activity_outputs = [c["activity"], c["page_label"], c["page"]]
    refreshed = [c["accounts"], c["account"], *activity_outputs]
    changed = [c["status"], *refreshed]
    c["set_role"].click(handlers.set_role, [c["account"], c["role"]], changed, api_name="team_set_role")
    c["disable"].click(handlers.disable, [c["account"]], changed, api_name="team_disable")
    c["enable"].click(handlers.enable, [c["account"]], changed, api_name="team_enable")
    c["set_password"].click(handlers.set_password, [c["account"], c["password"]], [c["password"], *changed],
                            api_name="team_set_password")  # fmt: skip
    confirm_outputs = [c["pending"], c["confirm_text"], c["confirm_row"]]
    c["remove"].click(handlers.ask_remove, [c["account"]], confirm_outputs, api_visibility="private")
    c["confirm"].click(handlers.confirm_remove, [c["pending"]], [c["pending"], c["confirm_row"], *changed],
                       api_name="team_remove")  # fmt: skip
    c["cancel"].click(handlers.cancel_remove, None, confirm_outputs, api_visibility="private")
    c["older"].click(handlers.older, [c["page"]], activity_outputs, api_visibility="private")
    c["newer"].click(handlers.newer, [c["page"]], activity_outputs, api_visibility="private")
    # Loaded when shown, never on page load: a viewer's page must not call an admin's event.
    tab.select(handlers.show, None, refreshed, api_visibility="private", show_progress="hidden")
    blocks.load(handlers.visibility, None, tab, api_visibility="private", show_progress="hidden")
