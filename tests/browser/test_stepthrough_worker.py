"""Step through in a real browser against `socratic-studio serve` with its model worker: the text of a
step grows while it is generated, a second browser session waits its turn and is told so, and a worker
killed mid-step gives a clear message, keeps the trace, and is restarted by the next click.

A tiny random GPT-2 is registered as a checkpoint (offered to everyone); the worker is paced at 100 ms per
token (SOCRATIC_WORKER_TOKEN_DELAY_S) so a step lasts long enough to be watched on any machine.
"""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from backend.access import auth
from db.engine import open_database
from db.models import ModelCheckpoint, StudentKind
from tests.browser.conftest import CHROMIUM, _free_port, _stop
from tests.browser.ui import fill, open_app, shoot
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]
QUESTION = "Tom has 3 boxes of 5 pens. How many pens does he have?"


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]


def _serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOCRATIC_")}
    env |= {"SOCRATIC_HOME": str(home), "SOCRATIC_AUTH": "0", "SOCRATIC_WORKER_TOKEN_DELAY_S": "0.1",
            "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}  # fmt: skip
    command = [str(Path(sys.executable).parent / "socratic-studio"), "serve", "--no-model", "--no-demo",
               "--port", str(port)]  # fmt: skip
    log = open(home / "serve.log", "wb")  # noqa: SIM115 - the server writes to it while it runs
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    _stop(process)
    raise RuntimeError((home / "serve.log").read_text(errors="replace")[-3000:])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from tests.tiny_models import build_tiny_gpt2

    home = tmp_path_factory.mktemp("stepthrough-home")
    engine = open_database(f"sqlite:///{home / 'studio.db'}")
    tiny = build_tiny_gpt2(home / "models" / "tiny-gpt2")
    with Session(engine) as session:
        auth.ensure_local_user(session)
        session.add(ModelCheckpoint(name="tiny-student", role=StudentKind.unified, path=str(tiny)))
        session.commit()
    process, url = _serve(home)
    try:
        yield Served(url, process)
    finally:
        _stop(process)


def _start(page: Page, url: str) -> None:
    open_app(page, url, "Step through")
    expect(page.locator("#step-decomposer input")).to_have_value(re.compile("tiny-student"))
    fill(page, "step-typed", QUESTION)
    page.click("#step-start")
    expect(page.locator("#step-status")).to_contain_text("Ready")


def _worker_pid(server_pid: int) -> int | None:
    """The model worker started by our server (its child running backend.model_worker.server)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == server_pid and "backend.model_worker.server" in cmdline:
            return int(entry.name)
    return None


DONE = re.compile("Step 1 done|Finished")
FIRST_TEXT_MS = 300_000  # a cold worker imports torch and loads the model first (minutes on a loaded CPU)


def test_the_text_of_a_step_grows_while_it_is_generated(page: Page, served: Served) -> None:
    _start(page, served.url)
    page.click("#step-next")
    live = page.locator("#step-live")
    expect(live).to_contain_text("Sub-question:", timeout=FIRST_TEXT_MS)
    first = live.inner_text()
    time.sleep(1.0)
    second = live.inner_text()
    assert len(second) > len(first) or "Answer:" in second, (first, second)  # grew, or moved on to the answer
    shoot(page, "stepthrough-streaming")
    expect(page.locator("#step-status")).to_contain_text(DONE, timeout=300_000)
    # The model ran in the worker: the web server process has no torch library mapped, even after a step.
    maps = Path(f"/proc/{served.process.pid}/maps").read_text()
    assert "libtorch" not in maps and _worker_pid(served.process.pid) is not None


def test_a_second_session_waits_its_turn(browser: Browser, served: Served) -> None:
    pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(2)]
    for page in pages:
        _start(page, served.url)
    first, second = pages
    first.click("#step-next")
    expect(first.locator("#step-live")).to_contain_text("Sub-question:", timeout=FIRST_TEXT_MS)
    second.click("#step-next")
    expect(second.locator("#step-status")).to_contain_text("Waiting for the model (1 ahead)")
    shoot(second, "stepthrough-queued")
    expect(first.locator("#step-status")).to_contain_text(DONE, timeout=300_000)
    expect(second.locator("#step-status")).to_contain_text(DONE, timeout=300_000)
    for page in pages:
        page.context.close()


def test_a_worker_killed_mid_step_is_reported_and_restarted(page: Page, served: Served) -> None:
    _start(page, served.url)
    page.click("#step-next")
    expect(page.locator("#step-status")).to_contain_text(DONE, timeout=300_000)
    kept = page.locator("#step-trace").inner_text()
    page.click("#step-next")
    writing = re.compile("Sub-question:|Answer:")
    expect(page.locator("#step-live")).to_contain_text(writing, timeout=FIRST_TEXT_MS)
    pid = _worker_pid(served.process.pid)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # the worker our own server started
    expect(page.locator("#step-status")).to_contain_text("The model worker stopped during this step")
    first_row = kept.splitlines()[:3]
    assert all(line in page.locator("#step-trace").inner_text() for line in first_row)  # the trace is kept
    shoot(page, "stepthrough-worker-killed")
    page.click("#step-next")
    expect(page.locator("#step-status")).to_contain_text(re.compile("Step 2 done|Finished"), timeout=300_000)
    assert _worker_pid(served.process.pid) not in (None, pid)
