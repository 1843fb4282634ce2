"""The web perimeter: which requests reach the Gradio app at all, checked before any of Gradio's own code.

Gradio 6 answers a credentialed cross-origin call from any origin when the Host is not local, and from
any local port when it is; its login cookie is SameSite=None, its /logout a GET, its login check runs
argon2 on the event loop, and its sessions name a user only by name and never expire. This ASGI layer,
outermost (`PerimeterApp` builds it around Gradio's whole middleware stack), decides instead:

- Host: with login off only loopback names are answered (a DNS-rebinding page cannot reach the local
  admin); with login on and a public origin set, loopback names and that origin's host.
- Origin: a request that carries an Origin other than the public origin or the address it was sent to
  is refused, preflights included, so another page (another local port too) cannot call as the user.
- /login and /logout (POST only) are answered by `webapp.signin`; each request's session cookie is
  checked there too before Gradio sees it.
- Uploads are refused (no page takes a file), and the login page shown to anonymous clients carries no
  description of the app's API (and shows why a login is refused for a while, login_notice.js).
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gradio.routes import App, ORJSONResponse
from sqlalchemy.engine import Engine
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.settings import Settings, plain_origin
from webapp.signin import SignIn

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
UPLOAD_PATHS = frozenset({"/gradio_api/upload", "/gradio_api/process_recording"})
# The anonymous page's embedded API description (Gradio escapes "<" in the JSON, so it cannot end early).
API_INFO_SCRIPT = re.compile(rb"<script>window\.gradio_api_info = .*?;</script>", re.DOTALL)
NO_API_INFO = b'<script>window.gradio_api_info = {"named_endpoints": {}, "unnamed_endpoints": {}};</script>'
# Shown in its place: the notice for a throttled login (Gradio's form shows nothing for a 429).
LOGIN_NOTICE = (Path(__file__).resolve().parent / "login_notice.js").read_bytes()
ANONYMOUS_PAGE_SCRIPTS = NO_API_INFO + b"<script>" + LOGIN_NOTICE + b"</script>"


def hostname(host_header: str) -> str | None:
    """The name in a Host header (lower case, IPv6 without brackets); None when it is not a host."""
    try:
        parts = urlsplit(f"//{host_header}")
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    return parts.hostname or None


class Boundary:
    """Which Host names and Origins a request may carry (from the settings; no state)."""

    def __init__(self, settings: Settings) -> None:
        self.login = settings.auth
        self.public_origin = settings.public_origin
        self.public_host = urlsplit(settings.public_origin).hostname if settings.public_origin else None

    def host_allowed(self, name: str | None) -> bool:
        if name is None:
            return False
        if name in LOOPBACK_NAMES:
            return True
        if not self.login:
            return False  # login off: the app is the local admin's, never the network's
        return self.public_host is None or name == self.public_host

    def origin_allowed(self, origin: str, *, scheme: str, host_header: str) -> bool:
        """The public origin, or the very address the request was sent to (same origin)."""
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            return False  # "null" (sandboxed frames, file pages) and anything odd
        sent_from = plain_origin(parts.scheme, parts.netloc)
        return sent_from in (self.public_origin, plain_origin(scheme, host_header))

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """The status and reason that stop this request (None: it may pass)."""
        headers = Headers(scope=scope)
        host_header = headers.get("host", "")
        if not self.host_allowed(hostname(host_header)):
            where = "loopback addresses (login is off)" if not self.login else "its public origin's host"
            return 400, (
                f"This server answers only at {where}, not at {host_header!r}. If this is the app's "
                "address, set SOCRATIC_PUBLIC_ORIGIN (and SOCRATIC_AUTH=1 to serve the network)."
            )
        origin = headers.get("origin")
        scheme = str(scope.get("scheme", "http"))
        scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)  # a websocket's page is http(s)
        if origin is not None and not self.origin_allowed(origin, scheme=scheme, host_header=host_header):
            return 403, f"Requests from pages at {origin!r} are refused: only the app's pages may call it."
        return None


class Perimeter:
    """The ASGI layer in front of the Gradio app (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, boundary: Boundary, signin: SignIn) -> None:
        self.app = app
        self.boundary = boundary
        self.signin = signin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self.boundary.refusal(scope)
        if refusal is not None:
            await _refuse(scope, receive, send, *refusal)
            return
        if scope["type"] == "websocket":
            await self.signin.admit(scope)  # Gradio reads the same cookie there
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path in UPLOAD_PATHS:
            await PlainTextResponse("Uploads are off: no page of this app takes a file.", 403)(
                scope, receive, send
            )
            return
        answer = self.signin.answer(path, method)
        if answer is not None:
            await answer(scope, receive, send)
            return
        signed_in = await self.signin.admit(scope)
        if self.boundary.login and not signed_in and method == "GET":
            await _without_api_info(self.app, scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    await PlainTextResponse(message, status_code=status)(scope, receive, send)


async def _without_api_info(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """An anonymous GET: an HTML page (the login page) is served with its embedded API description
    emptied, so anonymous clients get no map of the app; anything else passes unchanged."""
    # Ask for an uncompressed answer, so a page's bytes can be edited here.
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
    start: dict[str, Any] = {}
    page = bytearray()
    unchanged = False

    async def edit(message: Message) -> None:
        nonlocal unchanged
        if message["type"] == "http.response.start":
            start.update(message)
            content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
            unchanged = not content_type.startswith("text/html")
            if unchanged:
                await send(message)
            return
        if unchanged or message["type"] != "http.response.body":
            await send(message)
            return
        page.extend(message.get("body", b""))
        if message.get("more_body", False):
            return
        edited = API_INFO_SCRIPT.sub(lambda _: ANONYMOUS_PAGE_SCRIPTS, bytes(page), count=1)
        raw = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({"type": "http.response.start", "status": start["status"],
                    "headers": [*raw, (b"content-length", str(len(edited)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": edited})

    await app({**scope, "headers": headers}, receive, edit)


def _refuse_all_passwords(username: str, password: str) -> bool:
    return False


# Gradio's own login route never runs (the perimeter answers /login); this only switches its login page on.
GRADIO_AUTH: Callable[[str, str], bool] = _refuse_all_passwords


class PerimeterApp(App):
    """Gradio's app with the perimeter outside its whole middleware stack (pass as `launch(_app=...)`)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(default_response_class=ORJSONResponse)  # what Gradio's own create_app passes
        self.boundary = Boundary(settings)
        self.signin = SignIn(engine, settings, gradio=self)

    def build_middleware_stack(self) -> ASGIApp:
        # Starlette builds the stack once, at the first request; Gradio has added its layers by then.
        return Perimeter(super().build_middleware_stack(), boundary=self.boundary, signin=self.signin)
