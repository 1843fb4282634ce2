"""Another page cannot act as the user: a page from another local origin (same machine, another port),
opened in the browser where the admin is signed in, can neither read who is signed in nor create a
curated set; and the Log out button ends the session."""

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from db.models import CuratedSet
from tests.browser.conftest import Studio
from tests.webapp.seed import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What a hostile page would run: read the app's config (it names the signed-in user) and the page, then
# create a curated set through the app's HTTP API, all with the browser's cookies.
ATTACK = """
async ({studio, name}) => {
  const out = {};
  for (const path of ['/config', '/']) {
    try {
      const answer = await fetch(studio + path, {credentials: 'include'});
      out[path] = await answer.text();
    } catch (error) { out[path] = 'blocked'; }
  }
  try {
    const call = await fetch(studio + '/gradio_api/call/create_set', {
      method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({data: ['', true, name, '']})});
    const {event_id} = await call.json();
    const result = await fetch(studio + '/gradio_api/call/create_set/' + event_id, {credentials: 'include'});
    out.create = await result.text();
  } catch (error) { out.create = 'blocked'; }
  return out;
}
"""


class _EvilPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>elsewhere</title><p>Nothing to see.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def elsewhere() -> Iterator[str]:
    """A page on another local origin: the same loopback address, another port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EvilPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _log_in(page: Page, studio: Studio, username: str) -> None:
    page.goto(studio.url)
    page.get_by_label("username").fill(username)
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#app-user")).to_contain_text(f"Signed in as {username}")


def _set_exists(studio: Studio, name: str) -> bool:
    with Session(studio.engine) as session:
        return session.exec(select(CuratedSet).where(CuratedSet.name == name)).first() is not None


def _attack(page: Page, studio: Studio, elsewhere: str, name: str) -> dict[str, str]:
    page.goto(elsewhere)
    return page.evaluate(ATTACK, {"studio": studio.url, "name": name})  # type: ignore[no-any-return]


def test_another_local_origin_cannot_act_as_the_signed_in_admin(
    page: Page, auth_studio: Studio, elsewhere: str
) -> None:
    _log_in(page, auth_studio, "admin")
    out = _attack(page, auth_studio, elsewhere, "set-from-elsewhere")
    assert out == {"/config": "blocked", "/": "blocked", "create": "blocked"}, out
    assert not _set_exists(auth_studio, "set-from-elsewhere")
    page.goto(auth_studio.url)  # the app itself still works for the admin
    expect(page.locator("#app-user")).to_contain_text("Signed in as admin (admin)")


def test_another_local_origin_cannot_act_as_the_local_admin(
    page: Page, studio: Studio, elsewhere: str
) -> None:
    out = _attack(page, studio, elsewhere, "set-from-elsewhere-local")
    assert out == {"/config": "blocked", "/": "blocked", "create": "blocked"}, out
    assert not _set_exists(studio, "set-from-elsewhere-local")


def test_the_log_out_button_ends_the_session(page: Page, auth_studio: Studio) -> None:
    _log_in(page, auth_studio, "alice")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert httpx.get(f"{auth_studio.url}/gradio_api/login_check", cookies=cookies).status_code == 200
    page.click("#app-logout")
    expect(page.get_by_label("username")).to_be_visible()
    page.reload()
    expect(page.get_by_label("username")).to_be_visible()
    assert httpx.get(f"{auth_studio.url}/gradio_api/login_check", cookies=cookies).status_code == 401


def test_a_throttled_login_says_how_long_to_wait(page: Page, auth_studio: Studio) -> None:
    page.goto(auth_studio.url)
    statuses = []
    for attempt in range(7):  # five free failures, the sixth closes the name, the seventh is refused
        page.get_by_label("username").fill("nobody-by-this-name")
        page.get_by_label("password").fill(f"guess-{attempt}")
        with page.expect_response(lambda answer: answer.url.endswith("/login")) as answer:
            page.get_by_role("button", name="Login").click()
        statuses.append(answer.value.status)
    assert statuses == [400] * 6 + [429]
    expect(page.locator("#login-throttled")).to_contain_text("Too many failed logins")
    expect(page.locator("#login-throttled")).to_contain_text("try again in")
