"""Who is acting: the header line, and the login check Gradio's `auth=` calls."""

import gradio as gr
from sqlmodel import Session

from backend import auth
from webapp import strings
from webapp.context import AppContext
from webapp.render import inert


class SessionHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    def header(self, request: gr.Request) -> str:
        user = self.app.current_user(request)
        if user is None:
            return ""
        template = strings.SIGNED_IN_AS if self.app.settings.auth else strings.LOCAL_USER_NOTE
        return template.format(user=inert(user.username), role=inert(user.role))

    def check_login(self, username: str, password: str) -> bool:
        """Gradio's auth callable: True when the password matches the stored argon2 hash."""
        with Session(self.app.engine) as session:
            return auth.authenticate(session, username=username, password=password) is not None
