"""Login sessions: a random token bound to one account's id, ended by logout or by idle time.

A session names the account by id, name and creation time, so re-creating a removed name never revives
an old cookie, and it lasts only while used: each request it answers moves its deadline. The book is in
memory (a restart logs everyone out) and takes `now` (seconds, monotonic) from the caller, so tests
drive time.
Whether the account may still act (exists, same name, not disabled or removed) is checked against the
database on every use by `active_account`.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from backend.access import auth
from db.models import User


@dataclass
class Binding:
    user_id: int
    username: str
    created_at: datetime  # with the id: SQLite may give a deleted account's id to the next one made
    last_seen: float
    credential: str = ""  # a digest of the password hash at sign-in: a new password ends older sessions


class SessionBook:
    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, Binding] = {}

    def open(self, user: User, now: float) -> str:
        if user.id is None:
            raise ValueError("a session needs a stored account")
        self._forget_idle(now)
        token = secrets.token_urlsafe(32)
        self._sessions[token] = Binding(
            user_id=user.id,
            username=user.username,
            created_at=user.created_at,
            last_seen=now,
            credential=credential_digest(user),
        )
        return token

    def use(self, token: str, now: float) -> Binding | None:
        """The token's binding, its idle deadline moved; None (and forgotten) if unknown or idle too long."""
        binding = self._sessions.get(token)
        if binding is None:
            return None
        if now - binding.last_seen > self.idle_seconds:
            del self._sessions[token]
            return None
        binding.last_seen = now
        return binding

    def close(self, token: str) -> None:
        self._sessions.pop(token, None)

    def __contains__(self, token: object) -> bool:
        return token in self._sessions

    def _forget_idle(self, now: float) -> None:
        for token in [t for t, b in self._sessions.items() if now - b.last_seen > self.idle_seconds]:
            del self._sessions[token]


def credential_digest(user: User) -> str:
    # argon2 hashes carry a fresh salt, so any password change (or reset) gives a new digest.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()


def is_active(user: User | None) -> bool:
    return user is not None and not user.disabled and user.removed_at is None


def active_account(session: Session, binding: Binding) -> User | None:
    """The bound account if it may still act: the same one (id, name, creation, password), not disabled
    or removed."""
    user = session.get(User, binding.user_id)
    if user is None or not is_active(user):
        return None
    same = (
        user.username == binding.username
        and user.created_at == binding.created_at
        and credential_digest(user) == binding.credential
    )
    return user if same else None


def sign_in(session: Session, *, username: str, password: str) -> User | None:
    """The account when the password matches and the account may act (argon2: call it off the event loop)."""
    user = auth.authenticate(session, username=username, password=password)
    return user if is_active(user) else None
