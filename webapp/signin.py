"""Login, logout and the session behind each request, answered by the perimeter in place of Gradio's routes.

- POST /login: throttled per name and per client address (backend.access.login_guard), the argon2 check run in
  a worker thread (at most two at once) so the event loop keeps answering everyone else, and on success
  a session bound to the account's id (backend.access.sessions) in an HttpOnly, SameSite=Lax cookie.
- POST /logout ends this browser's session; GET /logout is refused (a link or image must not log out).
- Every other request's cookie is checked (idle time, account still active, same id) before Gradio sees
  it. Gradio keeps its own token -> name table, which reads the cookie; this keeps that table holding only
  live sessions, and tells the handlers the bound account id through the request state.
"""

import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import anyio
from gradio.routes import App
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import Message, Receive, Scope, Send

from backend.access.login_guard import LoginGuard
from backend.access.sessions import Binding, SessionBook, active_account, sign_in
from db.models import User
from db.settings import Settings

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]

LOGIN_PATHS = frozenset({"/login", "/login/"})
LOGOUT_PATHS = frozenset({"/logout", "/logout/"})
USER_ID_STATE = "socratic_user_id"  # request.state key: the account id the session is bound to
MAX_LOGIN_BODY = 8 * 1024  # a name and a password; anything larger is not a login
MAX_NAME = 64  # the user table's limit: a longer name cannot exist, so it is not worth a hash
PASSWORD_CHECKS_AT_ONCE = 2  # argon2 takes ~64 MiB and a core per check: a flood must not take them all
INCORRECT = "Incorrect credentials."  # Gradio's login form shows its own message for any 400


class SignIn:
    def __init__(self, engine: Engine, settings: Settings, *, gradio: App) -> None:
        self.engine = engine
        self.login_on = settings.auth
        self.https_host = _https_host(settings.public_origin)
        self.gradio = gradio
        self.guard = LoginGuard()
        self.sessions = SessionBook(idle_seconds=settings.session_idle_minutes * 60)
        self.clock: Callable[[], float] = time.monotonic
        self._checks: anyio.CapacityLimiter | None = None

    def answer(self, path: str, method: str) -> Handler | None:
        """The perimeter's own answer to this request, or None to pass it on to Gradio."""
        if path in LOGOUT_PATHS:
            return self.logout if method == "POST" else _post_only
        if path in LOGIN_PATHS and method == "POST" and self.login_on:
            return self.login
        return None

    # -- every request -------------------------------------------------------------------------------

    async def admit(self, scope: Scope) -> bool:
        """Check the request's session cookie; True when it names a live session of an active account."""
        if not self.login_on:
            return False
        signed_in = False
        for token in self._tokens(scope):
            binding = self.sessions.use(token, self.clock())
            if binding is not None and await anyio.to_thread.run_sync(self._still_active, binding):
                self.gradio.tokens[token] = binding.username
                scope.setdefault("state", {})[USER_ID_STATE] = binding.user_id
                signed_in = True
            else:
                self._end(token)
        return signed_in

    def _still_active(self, binding: Binding) -> bool:
        with Session(self.engine) as session:
            return active_account(session, binding) is not None

    def _cookie_names(self) -> tuple[str, str]:
        # Gradio reads either name; only the first is ever set now (no SameSite=None copy).
        cookie_id = self.gradio.cookie_id
        return f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"

    def _tokens(self, scope: Scope) -> set[str]:
        cookies = cookie_parser(Headers(scope=scope).get("cookie", ""))
        return {cookies[name] for name in self._cookie_names() if cookies.get(name)}

    def _end(self, token: str) -> None:
        self.sessions.close(token)
        self.gradio.tokens.pop(token, None)

    # -- login and logout -----------------------------------------------------------------------------

    async def login(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._login(scope, receive)
        await response(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive) -> Response:
        form = await _read_form(scope, receive)
        if form is None:
            return PlainTextResponse("A login takes a form with a username and a password.", 400)
        username, password = form
        address = scope["client"][0] if scope.get("client") else "unknown"
        if self._checks is None:
            self._checks = anyio.CapacityLimiter(PASSWORD_CHECKS_AT_ONCE)
        # The wait is read inside the slot, and a failure counted before leaving it, so attempts queued
        # behind a failing one see its back-off instead of all reaching argon2.
        async with self._checks:
            wait = self.guard.wait(username=username, address=address, now=self.clock())
            if wait > 0:
                return _too_many(wait)
            user = await anyio.to_thread.run_sync(self._check_password, username, password)
            if user is None:
                self.guard.failed(username=username, address=address, now=self.clock())
                return JSONResponse({"detail": INCORRECT}, status_code=400)
        self.guard.succeeded(username=username)
        token = self.sessions.open(user, self.clock())
        for stale in [t for t in self.gradio.tokens if t not in self.sessions]:  # sessions gone idle
            del self.gradio.tokens[stale]
        self.gradio.tokens[token] = user.username
        response = JSONResponse({"success": True})
        secure = scope.get("scheme") == "https" or self._host(scope) == self.https_host
        response.set_cookie(
            self._cookie_names()[0], token, httponly=True, samesite="lax", secure=secure, path="/"
        )
        return response

    def _check_password(self, username: str, password: str) -> User | None:
        if len(username) > MAX_NAME:
            return None
        with Session(self.engine, expire_on_commit=False) as session:
            return sign_in(session, username=username, password=password)

    @staticmethod
    def _host(scope: Scope) -> str | None:
        return urlsplit(f"//{Headers(scope=scope).get('host', '')}").hostname

    async def logout(self, scope: Scope, receive: Receive, send: Send) -> None:
        for token in self._tokens(scope):
            self._end(token)
        # Back to the app's root, relative so it works below a proxy's path prefix too.
        response = RedirectResponse("./" if scope["path"] == "/logout" else "../", status_code=303)
        for name in self._cookie_names():
            response.delete_cookie(name, path="/")
        await response(scope, receive, send)


async def _post_only(scope: Scope, receive: Receive, send: Send) -> None:
    response = PlainTextResponse("Log out with the page's Log out button (a POST).", 405)
    response.headers["allow"] = "POST"
    await response(scope, receive, send)


def _too_many(wait: float) -> Response:
    seconds = max(1, round(wait))
    message = f"Too many failed logins for this name or address: try again in {seconds} s."
    return JSONResponse({"detail": message}, status_code=429, headers={"retry-after": str(seconds)})


def _https_host(public_origin: str) -> str | None:
    return urlsplit(public_origin).hostname if public_origin.startswith("https://") else None


async def _read_form(scope: Scope, receive: Receive) -> tuple[str, str] | None:
    """The posted username (stripped) and password, reading at most MAX_LOGIN_BODY bytes."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body.extend(message.get("body", b""))
        more = message.get("more_body", False)
        if len(body) > MAX_LOGIN_BODY:
            return None
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return {"type": "http.disconnect"}
        replayed = True
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    try:
        form = await Request(scope, replay).form(max_files=0, max_fields=4)
    except Exception:  # malformed multipart or urlencoded data: not a login
        return None
    username, password = form.get("username"), form.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return None  # an uploaded file, or a field missing
    return username.strip(), password
