"""Who is acting: the header line (logins are answered by webapp.signin)."""

from collections.abc import Callable

import gradio as gr

from db.models import Role
from webapp import strings
from webapp.context import AppContext
from webapp.render import inert
from webapp.roles import needs


class TimerSwitch:
    """A tab's polling timer runs only while that tab is shown (hidden tabs need not hit the database)."""

    def __init__(self, timer_tabs: list[str]) -> None:
        self.timer_tabs = timer_tabs  # the tab of each timer, in output order

    def showing(self, tab_id: str) -> Callable[[], tuple[gr.Timer, ...]]:
        @needs(Role.viewer)
        def switch() -> tuple[gr.Timer, ...]:
            return tuple(gr.Timer(active=owner == tab_id) for owner in self.timer_tabs)

        return switch


class SessionHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def header(self, request: gr.Request) -> str:
        user = self.app.current_user(request)
        if user is None:
            return ""
        template = strings.SIGNED_IN_AS if self.app.settings.auth else strings.LOCAL_USER_NOTE
        return template.format(user=inert(user.username), role=inert(user.role))
