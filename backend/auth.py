"""Users and passwords: argon2 hashes (argon2-cffi), roles checked on the server by every handler."""

from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from db.models import Role, User

_hasher = PasswordHasher()
LOCAL_USER = "local"  # the single user of a login-free install (the run command's default)

# What each role may do; handlers call `require_role` with the least role that may act.
_RANK = {Role.viewer: 0, Role.annotator: 1, Role.admin: 2}


class PermissionDenied(Exception):
    """The user's role does not allow the action."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, *, username: str, role: Role, password: str | None = None) -> User:
    username = username.strip()
    if not username:
        raise ValueError("username must not be empty")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise ValueError(f"user {username!r} already exists")
    if password is not None and len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    user = User(username=username, role=role, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or user.password_hash is None:
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError):
        return None
    return user


def get_user(session: Session, *, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def list_users(session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(User.username)).all()


def ensure_local_user(session: Session) -> User:
    """The admin that a login-free install acts as; created on first start."""
    user = get_user(session, username=LOCAL_USER)
    return user or create_user(session, username=LOCAL_USER, role=Role.admin)


def has_role(user: User | None, least: Role) -> bool:
    return user is not None and _RANK[Role(user.role)] >= _RANK[least]


def require_role(user: User | None, least: Role) -> User:
    if user is None:
        raise PermissionDenied("please log in first")
    if not has_role(user, least):
        raise PermissionDenied(f"this needs the {least.value} role; {user.username} is a {user.role}")
    return user
