"""The "Build the demo students" button (Step through and Train): starts the chain job (backend.demo_chain)
and says how long it expects first; its steps appear in Train's job list, each watchable and cancellable."""

import gradio as gr

from backend.auth import PermissionDenied
from backend.demo_chain import DemoChainConfig, start_demo_chain
from db.models import Role
from webapp import strings
from webapp.context import AppContext, user_error
from webapp.roles import needs

S = strings.Demo


def expectation(config: DemoChainConfig | None = None) -> str:
    """What the page says before the button is pressed."""
    config = config or DemoChainConfig()
    minutes = max(1, round(config.expected_seconds() / 60))
    return S.EXPECT.format(minutes=minutes, train=config.train_problems, held_out=config.held_out_problems)


class DemoHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.annotator)
    def build(self, request: gr.Request) -> str:
        """Start the chain (it starts jobs and trains models: an annotator's action)."""
        user = self.app.require(request, Role.annotator)
        config = DemoChainConfig()
        with self.app.session() as session:
            try:
                job = start_demo_chain(session, config=config, created_by_id=user.id)
            except (ValueError, PermissionDenied) as error:
                raise user_error(str(error)) from error
        self.app.spawn(job.id or 0)
        return S.STARTED.format(id=job.id, minutes=max(1, round(config.expected_seconds() / 60)))
