"""Team: accounts (role, disable/enable, remove, password) and the activity list; admins only.

Every handler declares Role.admin and checks it again with the acting user it records; the only other
event is `visibility`, which shows the tab to admins and hides it from everyone else.
"""

from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd
from sqlmodel import Session

from backend.access import activity, auth
from db.models import Role, User
from webapp import strings
from webapp.context import AppContext, user_error
from webapp.render import inert
from webapp.roles import needs

S = strings.Team
PAGE_SIZE = 25
ROLE_CHOICES = [role.value for role in Role]
# What every account change returns: status line, accounts table, account picker, activity page.
Refresh = tuple[str, dict[str, Any], dict[str, Any], pd.DataFrame, str, int]


def _when(user_or_entry: Any) -> str:
    return f"{user_or_entry.created_at:%Y-%m-%d %H:%M:%S}"


def _account_row(user: User) -> list[Any]:
    return [user.id, user.username, str(user.role), auth.account_status(user), _when(user)]


def _choice(user: User) -> tuple[str, str]:
    label = S.ACCOUNT_CHOICE.format(user=user.username, role=user.role, status=auth.account_status(user))
    return label, user.username


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _page(value: Any) -> int:
    """The page a browser sent back (its own state, so anything): a number, else the first page."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 1


def _username(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise user_error(S.NO_ACCOUNT)
    return value


class TeamHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def visibility(self, request: gr.Request) -> dict[str, Any]:
        """The tab shows for admins only (the handlers refuse everyone else whatever the page shows)."""
        return gr.update(visible=auth.has_role(self.app.current_user(request), Role.admin))

    def _accounts(self) -> tuple[dict[str, Any], dict[str, Any]]:
        with self.app.session() as session:
            users = list(auth.list_users(session))
        table = pd.DataFrame([_account_row(user) for user in users], columns=S.ACCOUNT_HEADERS)
        choices = [_choice(user) for user in users if user.removed_at is None]
        return gr.update(value=table), gr.update(choices=choices, value=None)

    def _activity(self, page: Any) -> tuple[pd.DataFrame, str, int]:
        with self.app.session() as session:
            total = activity.count(session)
            page = min(max(_page(page), 1), _pages(total))
            entries = activity.recent(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        rows = [[_when(e), e.username, e.action, e.detail] for e in entries]
        label = (
            S.ACTIVITY_PAGE.format(page=page, pages=_pages(total), total=total) if total else S.NO_ACTIVITY
        )
        return pd.DataFrame(rows, columns=S.ACTIVITY_HEADERS), label, page

    @needs(Role.admin)
    def show(self, request: gr.Request) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame, str, int]:
        """Accounts, the account picker and the newest activity (when the tab is shown)."""
        self.app.require(request, Role.admin)
        return (*self._accounts(), *self._activity(1))

    @needs(Role.admin)
    def older(self, page: Any, request: gr.Request) -> tuple[pd.DataFrame, str, int]:
        self.app.require(request, Role.admin)
        return self._activity(_page(page) + 1)

    @needs(Role.admin)
    def newer(self, page: Any, request: gr.Request) -> tuple[pd.DataFrame, str, int]:
        self.app.require(request, Role.admin)
        return self._activity(_page(page) - 1)

    def _change(self, request: gr.Request, change: Callable[[Session, User], User], done: str) -> Refresh:
        """Run one account change as the acting admin; errors (last admin, unknown user) say why."""
        admin = self.app.require(request, Role.admin)
        with self.app.session() as session:
            try:
                user = change(session, admin)
            except (ValueError, LookupError) as error:
                raise user_error(str(error)) from error
        message = done.format(user=inert(user.username), role=inert(user.role))
        return (message, *self._accounts(), *self._activity(1))

    @needs(Role.admin)
    def set_role(self, username: Any, role: Any, request: gr.Request) -> Refresh:
        name = _username(username)
        change = lambda s, by: auth.set_role(s, username=name, role=str(role or ""), by=by)  # noqa: E731
        return self._change(request, change, S.ROLE_SET)

    @needs(Role.admin)
    def disable(self, username: Any, request: gr.Request) -> Refresh:
        name = _username(username)
        return self._change(request, lambda s, by: auth.disable(s, username=name, by=by), S.DISABLED)

    @needs(Role.admin)
    def enable(self, username: Any, request: gr.Request) -> Refresh:
        name = _username(username)
        return self._change(request, lambda s, by: auth.enable(s, username=name, by=by), S.ENABLED)

    @needs(Role.admin)
    def ask_remove(self, username: Any, request: gr.Request) -> tuple[str, str, dict[str, Any]]:
        """Removal is for good: name the account and show the confirm buttons (nothing changes yet)."""
        self.app.require(request, Role.admin)
        name = _username(username)
        return name, S.REMOVE_CONFIRM_TEXT.format(user=inert(name)), gr.update(visible=True)

    @needs(Role.admin)
    def confirm_remove(self, pending: Any, request: gr.Request) -> tuple[Any, ...]:
        """The pending name cleared, the confirm buttons hidden, then what every change returns."""
        if not isinstance(pending, str) or not pending:
            raise user_error(S.NOTHING_PENDING)
        done = self._change(request, lambda s, by: auth.remove(s, username=pending, by=by), S.REMOVED)
        return ("", gr.update(visible=False), *done)

    @needs(Role.admin)
    def cancel_remove(self, request: gr.Request) -> tuple[str, str, dict[str, Any]]:
        self.app.require(request, Role.admin)
        return "", "", gr.update(visible=False)

    @needs(Role.admin)
    def set_password(self, username: Any, password: Any, request: gr.Request) -> tuple[Any, ...]:
        """The password box emptied (the typed password does not stay on the page), then the change."""
        name, typed = _username(username), str(password or "")
        change = lambda s, by: auth.set_password(s, username=name, password=typed, by=by)  # noqa: E731
        return ("", *self._change(request, change, S.PASSWORD_SET))
