"""Team handlers: accounts and the activity list, for admins only (issue 26)."""

from typing import Any

import gradio as gr
import pytest
from sqlmodel import Session

from backend.access import activity, auth
from db.models import Role, User
from tests.webapp.conftest import as_user
from tests.webapp.seed import PASSWORD
from tests.webapp.test_event_roles import refused_for_role
from webapp import strings
from webapp.context import AppContext
from webapp.handlers.team import PAGE_SIZE, TeamHandlers
from webapp.pages.team import create_team_tab
from webapp.roles import enforced_role, events, guard_events

ADMIN = as_user("admin")


def _names(accounts: dict[str, Any]) -> dict[str, tuple[str, str]]:
    table = accounts["value"]
    return {row["user"]: (row["role"], row["status"]) for _, row in table.iterrows()}


def test_show_lists_accounts_with_role_and_status_and_the_newest_activity(
    auth_app: AppContext, users: dict[str, User], session: Session
) -> None:
    auth.disable(session, username="bob", by=users["admin"])
    accounts, picker, table, label, page = TeamHandlers(auth_app).show(ADMIN)
    assert _names(accounts)["bob"] == ("annotator", "disabled")
    assert _names(accounts)["admin"] == ("admin", "active")
    assert ("bob (annotator, disabled)", "bob") in picker["choices"]
    assert list(table["action"]) == ["account disabled"] and list(table["user"]) == ["admin"]
    assert page == 1 and "1 entries" in label


def test_an_admin_changes_roles_disables_enables_and_resets_passwords(
    auth_app: AppContext, users: dict[str, User], session: Session
) -> None:
    handlers = TeamHandlers(auth_app)
    message, accounts, *_ = handlers.set_role("alice", "admin", ADMIN)
    assert "alice is now admin" in message and _names(accounts)["alice"][0] == "admin"
    handlers.disable("victor", ADMIN)
    session.expire_all()  # the handlers changed the rows in their own sessions
    assert auth.authenticate(session, username="victor", password=PASSWORD) is None
    handlers.enable("victor", ADMIN)
    cleared, message, *_ = handlers.set_password("victor", "a brand new one", ADMIN)
    assert cleared == "" and "victor" in message
    session.expire_all()
    assert auth.authenticate(session, username="victor", password="a brand new one") is not None
    entries = [(e.username, e.action) for e in activity.recent(session, limit=10)]
    assert entries[:2] == [("admin", "password reset"), ("admin", "account enabled")]


def test_remove_asks_first_and_then_keeps_the_name(
    auth_app: AppContext, users: dict[str, User], session: Session
) -> None:
    handlers = TeamHandlers(auth_app)
    pending, question, row = handlers.ask_remove("bob", ADMIN)
    assert pending == "bob" and "**bob**" in question and row["visible"] is True
    assert auth.get_user(session, username="bob").removed_at is None  # nothing removed by asking
    session.expire_all()
    cleared, hidden, message, accounts, picker, *_ = handlers.confirm_remove(pending, ADMIN)
    assert cleared == "" and hidden["visible"] is False and "bob is removed" in message
    assert _names(accounts)["bob"][1] == "removed"
    assert "bob" not in [value for _, value in picker["choices"]]  # nothing left to do with it
    with pytest.raises(gr.Error, match="Press Remove first"):
        handlers.confirm_remove("", ADMIN)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda h: h.set_role("admin", "viewer", ADMIN), "last admin"),
        (lambda h: h.disable("admin", ADMIN), "last admin"),
        (lambda h: h.confirm_remove("admin", ADMIN), "last admin"),
        (lambda h: h.set_role("alice", "boss", ADMIN), "unknown role"),
        (lambda h: h.set_role("zed", "viewer", ADMIN), "no user named"),
        (lambda h: h.set_password("alice", "short", ADMIN), "at least 8"),
        (lambda h: h.disable(None, ADMIN), "Pick an account"),
        (lambda h: h.set_role("<img src=x onerror=alert(1)>", "viewer", ADMIN), "&lt;img"),
    ],
)
def test_bad_input_is_refused_with_a_clear_escaped_error(
    auth_app: AppContext, users: dict[str, User], call: Any, message: str
) -> None:
    with pytest.raises(gr.Error, match=message):
        call(TeamHandlers(auth_app))


def test_activity_pages_back_and_stays_in_range(
    auth_app: AppContext, users: dict[str, User], session
) -> None:
    for n in range(PAGE_SIZE + 3):
        activity.record(session, user=users["alice"], action=activity.Action.export, detail=f"file {n}")
    handlers = TeamHandlers(auth_app)
    table, label, page = handlers.older(1, ADMIN)
    assert page == 2 and list(table["detail"]) == ["file 2", "file 1", "file 0"] and "Page 2 of 2" in label
    assert handlers.older(2, ADMIN)[2] == 2  # past the end: the last page
    table, _, page = handlers.newer("not a number", ADMIN)
    assert page == 1 and table["detail"].iloc[0] == f"file {PAGE_SIZE + 2}"


def test_a_username_with_markup_shows_inert(auth_app: AppContext, users: dict[str, User], session) -> None:
    auth.create_user(session, username="**x**<b>", role=Role.viewer, password=PASSWORD)
    message, *_ = TeamHandlers(auth_app).disable("**x**<b>", ADMIN)
    assert "<b>" not in message and "**x**" not in message


def _blocks(app: AppContext) -> gr.Blocks:
    with gr.Blocks() as blocks, gr.Tabs(), gr.Tab(strings.Team.TAB, visible=False) as tab:
        create_team_tab(app, blocks, tab)
    guard_events(blocks, app)
    return blocks


def test_every_team_event_but_the_tabs_visibility_refuses_viewers_and_annotators(
    auth_app: AppContext, users: dict[str, User]
) -> None:
    blocks = _blocks(auth_app)
    team_events = events(blocks)
    assert len(team_events) >= 10
    for block_fn in team_events:
        if block_fn.name == "visibility":
            continue
        assert enforced_role(block_fn.fn) == Role.admin, block_fn.name
        for username in (None, "victor", "alice"):
            assert refused_for_role(block_fn, username), (block_fn.name, username)
        assert not refused_for_role(block_fn, "admin"), block_fn.name


def test_the_tab_shows_to_admins_only(auth_app: AppContext, users: dict[str, User]) -> None:
    handlers = TeamHandlers(auth_app)
    assert handlers.visibility(ADMIN)["visible"] is True
    assert handlers.visibility(as_user("alice"))["visible"] is False
    assert handlers.visibility(as_user(None))["visible"] is False
