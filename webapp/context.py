"""What every page and handler shares: the engine, the settings, and who is acting (checked on the server)."""

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.access import auth
from backend.access.sessions import is_active
from backend.jobs.runner import spawn_job
from db.models import Role, User
from db.settings import Settings
from webapp import strings
from webapp.signin import USER_ID_STATE


def _signed_in(session: Session, request: gr.Request | None) -> User | None:
    """The account a request acts as: the id its login session is bound to (webapp.signin puts it in the
    request state), still active and still under the same name. A request that came over HTTP without
    that binding acts as nobody; only a request built in-process (tests) is taken at its username."""
    username = getattr(request, "username", None)
    if request is None or not username:
        return None
    user_id = getattr(getattr(request, "state", None), USER_ID_STATE, None)
    if user_id is not None:
        user = session.get(User, user_id)
        return user if user is not None and is_active(user) and user.username == username else None
    if getattr(request, "request", None) is not None:
        return None
    user = auth.get_user(session, username=username)
    return user if is_active(user) else None


def user_error(message: str, *, title: str = strings.ERROR_TITLE) -> gr.Error:
    """A gr.Error with escaped text: Gradio renders error messages as HTML and ours may quote user text."""
    return gr.Error(html.escape(message), title=title)


def notify(message: str) -> None:
    """A short toast (escaped for the same reason as user_error)."""
    gr.Info(html.escape(message))


@dataclass(frozen=True)
class AppContext:
    engine: Engine
    settings: Settings

    @property
    def database_url(self) -> str:
        # The URL the engine really uses (the CLI's --db may differ from the settings); workers reopen it.
        # It may hold a password: spawn_job hands it over in the environment, never on a command line.
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def logs_dir(self) -> Path:
        return self.settings.resolved_runs_dir / "logs"

    @property
    def model_roots(self) -> list[Path]:
        """Folders from which web users may load models: prepared models, training runs, configured roots."""
        return self.settings.resolved_model_roots

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def current_user(self, request: gr.Request | None) -> User | None:
        """The logged-in user (login on) or the single local admin (login off)."""
        with self.session() as session:
            if not self.settings.auth:
                return auth.ensure_local_user(session)
            return _signed_in(session, request)

    def require(self, request: gr.Request | None, least: Role) -> User:
        """The acting user if their role allows `least`, else a gr.Error shown to them (server-side check)."""
        try:
            return auth.require_role(self.current_user(request), least)
        except auth.PermissionDenied as error:
            raise user_error(str(error), title=strings.PERMISSION_TITLE) from error

    def spawn(self, job_id: int) -> None:
        """Start the job's worker process and return at once; the pages poll the job row."""
        spawn_job(job_id, database_url=self.database_url, logs_dir=self.logs_dir)
