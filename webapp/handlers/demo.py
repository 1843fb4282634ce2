"""The "Build the demo students" button (Step through and Train): starts the chain job (backend.demo.chain)
and says how long it expects first; while it runs, a timer polls where it stands (backend.demo.progress);
its steps appear in Train's job list, each watchable and cancellable."""

import gradio as gr

from backend.access import activity
from backend.access.auth import PermissionDenied
from backend.demo.chain import ChainAlreadyActive, DemoChainConfig, start_demo_chain
from backend.demo.progress import ChainProgress, latest_chain
from backend.display.inert_text import markdown_literal
from db.models import JobStatus, Role
from webapp import strings
from webapp.context import AppContext, user_error
from webapp.roles import needs

S = strings.Demo


def expectation(config: DemoChainConfig | None = None) -> str:
    """What the page says before the button is pressed."""
    config = config or DemoChainConfig()
    minutes = max(1, round(config.expected_seconds() / 60))
    return S.EXPECT.format(minutes=minutes, train=config.train_problems, held_out=config.held_out_problems)


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def describe(progress: ChainProgress | None) -> str:
    """The status line for the newest chain (the expectation when none ran yet)."""
    if progress is None:
        return expectation()
    chain = progress.chain
    elapsed, expected = round(progress.elapsed_seconds() / 60), _minutes(progress.expected_seconds)
    if chain.status == JobStatus.queued:
        return S.QUEUED.format(id=chain.id)
    if progress.active:
        step = progress.step_job
        detail = ""
        if step is not None:  # the step job's own progress line already counts what it has done
            shown = step.message or (f"{step.done}/{step.total}" if step.total else "")
            detail = S.STEP_DETAIL.format(message=markdown_literal(shown)) if shown else ""
        step_text = markdown_literal(chain.message or "starting")
        return S.RUNNING.format(id=chain.id, step=step_text, detail=detail,
                                elapsed=elapsed, expected=expected)  # fmt: skip
    if chain.status == JobStatus.succeeded:
        return S.DONE.format(id=chain.id, result=markdown_literal(chain.message), elapsed=elapsed)
    if chain.status == JobStatus.cancelled:
        return S.CANCELLED.format(id=chain.id)
    return S.FAILED.format(id=chain.id, error=markdown_literal((chain.error or chain.message or "")[-300:]))


class DemoHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.annotator)
    def build(self, request: gr.Request) -> tuple[str, gr.Timer]:
        """Start the chain (it starts jobs and trains models: an annotator's action)."""
        user = self.app.require(request, Role.annotator)
        config = DemoChainConfig()
        with self.app.session() as session:
            try:
                job = start_demo_chain(session, config=config, created_by_id=user.id)
                activity.record_job(session, user=user, job=job)
            except ChainAlreadyActive:  # a second click, or another user's chain: show that one
                return S.ALREADY + describe(latest_chain(session)), gr.Timer(active=True)
            except (ValueError, PermissionDenied) as error:
                raise user_error(str(error)) from error
        self.app.spawn(job.id or 0)
        started = S.STARTED.format(id=job.id, minutes=_minutes(config.expected_seconds()))
        return started, gr.Timer(active=True)

    @needs(Role.viewer)
    def poll(self, ready: float | None) -> tuple[str, gr.Timer, float | None]:
        """Status line; the timer keeps running only while a chain is queued or running, and `ready` takes
        the id of a chain that succeeded (the page reloads its model pickers when it changes)."""
        with self.app.session() as session:
            progress = latest_chain(session)
            text = describe(progress)
        if progress is None:
            return text, gr.Timer(active=False), ready
        if progress.chain.status == JobStatus.succeeded:
            ready = float(progress.chain.id or 0)
        return text, gr.Timer(active=progress.active), ready
