"""The web perimeter against a real launched app (httpx, no browser): Host and Origin checks, the login
cookie, POST-only logout, refused uploads, login throttling, sessions bound to the account with idle
expiry, and a login page that tells anonymous clients nothing about the API."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.access import auth
from backend.access.login_guard import BackoffPolicy, LoginGuard
from db.models import Role
from db.settings import Settings
from tests.webapp.conftest import make_settings
from tests.webapp.seed import PASSWORD, make_users
from webapp.app import build_app, launch_options
from webapp.perimeter import Boundary, hostname

EVIL = "https://evil.example"


@dataclass
class Served:
    url: str
    port: int
    app: object  # the launched app: webapp.perimeter.PerimeterApp once the perimeter is in place
    engine: Engine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _launch(engine: Engine, settings: Settings) -> Iterator[Served]:
    with Session(engine) as session:
        make_users(session)
    blocks = build_app(engine, settings)
    blocks.queue()
    port = _free_port()
    app, url, _ = blocks.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
        **launch_options(engine, settings),
    )  # fmt: skip
    try:
        yield Served(url=url.rstrip("/"), port=port, app=app, engine=engine)
    finally:
        blocks.close()


@pytest.fixture
def team(engine: Engine, tmp_path: Path) -> Iterator[Served]:
    """Login on, no public origin set."""
    with _launch(engine, make_settings(tmp_path / "home", auth=True)) as served:
        yield served


@pytest.fixture
def local(engine: Engine, tmp_path: Path) -> Iterator[Served]:
    """Login off: the local admin's own server."""
    with _launch(engine, make_settings(tmp_path / "home", auth=False)) as served:
        yield served


def _login(served: Served, username: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    return httpx.post(f"{served.url}/login", data={"username": username, "password": password},
                      headers=headers, timeout=30)  # fmt: skip


def _client(served: Served, username: str) -> httpx.Client:
    response = _login(served, username)
    assert response.status_code == 200, response.text
    return httpx.Client(base_url=served.url, cookies=response.cookies, timeout=30)


def _signed_in(client: httpx.Client) -> bool:
    return client.get("/gradio_api/login_check").status_code == 200


def test_the_boundary_decides_by_host_name_and_exact_origin(tmp_path: Path) -> None:
    local = Boundary(make_settings(tmp_path, auth=False))
    assert all(local.host_allowed(hostname(h)) for h in ("localhost:7860", "127.0.0.1", "[::1]:7860"))
    assert not any(local.host_allowed(hostname(h)) for h in ("10.0.0.5:7860", "evil.example", "", "a:b:c"))
    own = {"scheme": "http", "host_header": "localhost:7860"}
    assert local.origin_allowed("http://LOCALHOST:7860", **own)
    assert not local.origin_allowed("http://localhost:7861", **own)  # another port is another origin
    assert not local.origin_allowed("https://localhost:7860", **own)
    assert not local.origin_allowed("null", **own)
    public = Boundary(
        make_settings(tmp_path, auth=True).model_copy(update={"public_origin": "https://studio.example.org"})
    )
    assert public.host_allowed("studio.example.org") and not public.host_allowed("other.example.org")
    behind_proxy = {"scheme": "http", "host_header": "127.0.0.1:7860"}
    assert public.origin_allowed("https://studio.example.org:443", **behind_proxy)
    assert not public.origin_allowed("https://studio.example.org.evil.example", **behind_proxy)
    assert Boundary(make_settings(tmp_path, auth=True)).host_allowed("studio.lan")  # no public origin set


def test_a_preflight_or_call_from_another_origin_is_refused(team: Served, local: Served) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for served, headers in (
        (team, {"Host": "studio.internal", "Origin": EVIL}),
        (local, {"Origin": f"http://localhost:{local.port + 1}"}),  # another local port is another origin
        (local, {"Origin": "null"}),
    ):
        answer = httpx.options(f"{served.url}/gradio_api/queue/join", headers={**preflight, **headers})
        assert answer.status_code == 403 and "access-control-allow-origin" not in answer.headers
        answer = httpx.get(f"{served.url}/config", headers=headers)
        assert answer.status_code == 403 and "access-control-allow-origin" not in answer.headers
    own = {"Origin": f"http://127.0.0.1:{local.port}"}
    assert httpx.get(f"{local.url}/config", headers=own).status_code == 200
    own_preflight = httpx.options(f"{local.url}/gradio_api/queue/join", headers={**preflight, **own})
    assert own_preflight.status_code == 200


def test_the_public_origin_is_the_one_allowed(engine: Engine, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", auth=True).model_copy(
        update={"public_origin": "https://studio.example.org"}
    )
    with _launch(engine, settings) as served:
        public = {"Host": "studio.example.org", "Origin": "https://studio.example.org"}
        response = _login(served, "alice", **public)
        assert response.status_code == 200
        assert "secure" in response.headers["set-cookie"].lower()  # the browser reaches it over https
        assert httpx.get(f"{served.url}/config", headers={"Host": "elsewhere.example"}).status_code == 400
        other = {"Host": "studio.example.org", "Origin": "https://other.example.org"}
        assert _login(served, "alice", **other).status_code == 403


def test_the_login_cookie_is_samesite_lax_and_http_only(team: Served) -> None:
    response = _login(team, "alice")
    cookies = response.headers.get_list("set-cookie")
    assert cookies and all("samesite=lax" in c.lower() and "httponly" in c.lower() for c in cookies)


def test_logout_is_a_post(team: Served) -> None:
    client = _client(team, "alice")
    assert client.get("/logout").status_code == 405
    assert _signed_in(client)  # a link or an image cannot log anyone out
    assert client.post("/logout").status_code == 303
    assert not _signed_in(client)


def test_without_login_only_loopback_host_names_are_answered(local: Served) -> None:
    for host in (f"localhost:{local.port}", f"127.0.0.1:{local.port}", f"[::1]:{local.port}"):
        assert httpx.get(f"{local.url}/config", headers={"Host": host}).status_code == 200
    rebound = httpx.get(f"{local.url}/config", headers={"Host": f"attacker.example:{local.port}"})
    assert rebound.status_code == 400 and "SOCRATIC_PUBLIC_ORIGIN" in rebound.text


def test_uploads_are_refused(team: Served) -> None:
    viewer = _client(team, "victor")
    files = {"files": ("big.bin", b"x" * 2_000_000, "application/octet-stream")}
    assert viewer.post("/gradio_api/upload", files=files).status_code == 403


def test_the_anonymous_login_page_carries_no_api_description(team: Served) -> None:
    anonymous = httpx.get(team.url + "/")
    assert anonymous.status_code == 200 and "gradio_config" in anonymous.text
    assert "create_set" not in anonymous.text
    assert "login-throttled" in anonymous.text  # in its place: the notice for a throttled login
    assert "create_set" in _client(team, "alice").get("/").text  # signed in: the page is whole


def test_wrong_passwords_are_throttled_and_then_allowed_again(team: Served) -> None:
    for _ in range(5):
        assert _login(team, "alice", "wrong-password").status_code == 400
    assert _login(team, "alice", "wrong-password").status_code == 400  # this one closes the name
    refused = _login(team, "alice")  # even the right password waits
    assert refused.status_code == 429 and "try again in" in refused.json()["detail"]
    time.sleep(float(refused.headers["retry-after"]) + 0.5)
    assert _login(team, "alice").status_code == 200  # a back-off, not a lock


def test_a_login_flood_does_not_hold_up_other_requests(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No throttling here, so that every guess reaches argon2: the check itself must leave the loop free.
    lenient = BackoffPolicy(free_failures=10**6, first_delay=1, max_delay=1, forget_after=1)
    monkeypatch.setattr("webapp.signin.LoginGuard", lambda: LoginGuard(account=lenient, address=lenient))
    with _launch(engine, make_settings(tmp_path / "home", auth=True)) as served:
        reader = _client(served, "victor")
        stop = threading.Event()
        guessers = [threading.Thread(target=_guess, args=(served, stop)) for _ in range(6)]
        for thread in guessers:
            thread.start()
        try:
            time.sleep(1.0)  # the flood is under way
            slowest = 0.0
            for _ in range(5):
                started = time.monotonic()
                assert reader.get("/gradio_api/login_check").status_code == 200
                slowest = max(slowest, time.monotonic() - started)
                time.sleep(0.2)
        finally:
            stop.set()
            for thread in guessers:
                thread.join()
        assert slowest < 1.0, f"a plain request took {slowest:.2f} s during the login flood"


def _guess(served: Served, stop: threading.Event) -> None:
    while not stop.is_set():
        _login(served, "alice", "wrong-password")


def test_a_recreated_or_disabled_account_does_not_revive_an_old_cookie(team: Served) -> None:
    victor, alice = _client(team, "victor"), _client(team, "alice")
    with Session(team.engine) as session:
        session.delete(auth.get_user(session, username="victor"))
        session.commit()
        auth.create_user(session, username="victor", role=Role.admin, password=PASSWORD)
    assert not _signed_in(victor)
    assert _signed_in(_client(team, "victor"))  # the new account logs in afresh
    with Session(team.engine) as session:
        user = auth.get_user(session, username="alice")
        assert user is not None
        user.disabled = True
        session.add(user)
        session.commit()
    assert not _signed_in(alice)


def test_an_idle_session_expires(team: Served) -> None:
    client = _client(team, "alice")
    signin = team.app.signin  # type: ignore[attr-defined]
    real_clock = signin.clock
    signin.clock = lambda: real_clock() + 719 * 60  # 719 idle minutes later: still within 720
    assert _signed_in(client)
    signin.clock = lambda: real_clock() + (719 + 721) * 60
    assert not _signed_in(client)


def test_a_slow_first_answer_does_not_stop_the_server_starting(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gradio's own start-up probe times out on a busy machine; the launch must not depend on it."""
    import gradio.networking

    monkeypatch.setattr(gradio.networking, "url_ok", lambda url: False)  # what a 3 s timeout returns
    with _launch(engine, make_settings(tmp_path / "home", auth=True)) as served:
        assert httpx.get(f"{served.url}/", timeout=30).status_code == 200
