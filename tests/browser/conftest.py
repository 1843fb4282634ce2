"""Browser tests: the real app (`socratic-studio serve`) on loopback, driven by Playwright through Debian's
Chromium (/usr/bin/chromium; never `playwright install`).

One server per session on a temporary SQLite database holding the demo data, a small Socratic fixture
dataset (with an XSS payload as one question), users of every role, a frozen set, an evaluation run, and
a tiny random GPT-2 under the model folder. A second server on the same database runs with login on.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.access import auth
from backend.demo.problems import ensure_demo_data
from backend.queries.filters import RationaleFilter
from backend.sets import curation
from db.engine import open_database
from tests.conftest import ROOT
from tests.webapp.seed import make_users, seed_eval_run, seed_rationales

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
FIXTURE_DATASET = "fixture-socratic"
TRAIN_SET = "fixture-train-set"


@dataclass
class Studio:
    url: str
    home: Path
    engine: Engine
    tiny_model: Path
    rationale_ids: list[int]  # the fixture dataset's rationales: two per problem; index 6 is the XSS problem


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(home: Path, *, auth_on: bool) -> tuple[subprocess.Popen[bytes], str]:
    """Start `socratic-studio serve` (demo imported already, no SmolLM2) and wait until it answers."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SOCRATIC_")}
    env |= {
        "SOCRATIC_HOME": str(home),
        "SOCRATIC_AUTH": "1" if auth_on else "0",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    command = [str(Path(sys.executable).parent / "socratic-studio"), "serve", "--no-model", "--no-demo",
               "--port", str(port)]  # fmt: skip
    log = open(home / f"serve-{port}.log", "wb")  # noqa: SIM115 - the server writes to it for the whole session
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a loaded 2-core machine took over 120 s to import and start
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(url, timeout=2).status_code in (200, 401, 302):
                return process, url
        except httpx.HTTPError:
            time.sleep(0.5)
    _stop(process)
    tail = (home / f"serve-{port}.log").read_text(errors="replace")[-3000:]
    raise RuntimeError(f"socratic-studio serve did not start:\n{tail}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # our own server's process group only
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _prepare(home: Path) -> tuple[Engine, list[int], Path]:
    from tests.tiny_models import build_tiny_gpt2

    engine = open_database(f"sqlite:///{home / 'studio.db'}")
    ensure_demo_data(engine)
    with Session(engine) as session:
        auth.ensure_local_user(session)
        make_users(session)
        rationales = seed_rationales(session, dataset_name=FIXTURE_DATASET)
        rationale_ids = [rationale.id or 0 for rationale in rationales]
        seed_eval_run(session, rationales)
        train_filter = RationaleFilter(dataset_id=rationales[0].dataset_id, verdict="correct")
        curated = curation.create_set(session, name=TRAIN_SET, rationale_filter=train_filter)
        curation.freeze(session, set_id=curated.id or 0)
    tiny = build_tiny_gpt2(home / "models" / "tiny-gpt2")  # below the model folder: the app may load it
    return engine, rationale_ids, tiny


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); browser tests need it")
    home = tmp_path_factory.mktemp("studio-home")
    engine, rationale_ids, tiny = _prepare(home)
    process, url = _serve(home, auth_on=False)
    try:
        yield Studio(url=url, home=home, engine=engine, tiny_model=tiny, rationale_ids=rationale_ids)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def auth_studio(studio: Studio) -> Iterator[Studio]:
    """The same database served with login on (SOCRATIC_AUTH=1)."""
    process, url = _serve(studio.home, auth_on=True)
    try:
        yield Studio(url=url, home=studio.home, engine=studio.engine, tiny_model=studio.tiny_model,
                     rationale_ids=studio.rationale_ids)  # fmt: skip
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); browser tests need it")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # two shared CPU cores: the app answers slower than Playwright's 5 s
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context per test; a screenshot is saved on failure too."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-failed.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
