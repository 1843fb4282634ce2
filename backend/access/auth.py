"""Users and passwords: argon2 hashes (argon2-cffi), roles checked on the server by every handler, and
the account changes a team makes (role, disable/enable, remove, password), each recorded as activity.

A removed account stays as a tombstone row (disabled, no password, `removed_at` set): reviews, edits,
sets and jobs point at users by id, so the row keeps their author's name readable, and the name cannot be
taken by a new account that would then appear to have written them.
"""

import functools
import unicodedata
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, func, select, update

from backend.access import activity
from backend.access.activity import Action
from db.models import Rationale, Role, User, utcnow

_hasher = PasswordHasher()
LOCAL_USER = "local"  # the single user of a login-free install (the run command's default)
MIN_PASSWORD = 8
MAX_PASSWORD = 1_024  # a passphrase fits; a megabyte typed into the box is refused before hashing
MAX_USERNAME = 64  # the column's length

# What each role may do; handlers call `require_role` with the least role that may act.
_RANK = {Role.viewer: 0, Role.annotator: 1, Role.admin: 2}


class PermissionDenied(Exception):
    """The user's role does not allow the action."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"password must have at most {MAX_PASSWORD} characters")


def _check_username(username: str) -> str:
    """The name stripped; refused when empty, too long, or holding control or format characters (NUL,
    right-to-left overrides), which would make one name read as another in every list."""
    username = username.strip()
    if not username:
        raise ValueError("username must not be empty")
    if len(username) > MAX_USERNAME:
        raise ValueError(f"username must have at most {MAX_USERNAME} characters")
    if any(unicodedata.category(char).startswith("C") for char in username):
        raise ValueError("username must not hold control or formatting characters")
    return username


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches, made with the same parameters as real ones: checking a login for an
    unknown name against it costs what a real check costs, so timing does not tell which names exist."""
    return _hasher.hash("no account has this password; it only spends the time a real check spends")


def create_user(session: Session, *, username: str, role: Role, password: str | None = None) -> User:
    username = _check_username(username)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise ValueError(f"user {username!r} already exists")
    if password is not None:
        _check_password(password)
    user = User(username=username, role=role, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The user when the password is theirs and the account may log in, else None. Every call runs one
    argon2 check (against a dummy hash when there is no real one), so all refusals take the same time."""
    user = get_user(session, username=username)
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash or user.disabled:  # a removed account is disabled too
        return None
    return user


def get_user(session: Session, *, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_user_by_id(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(User.username)).all()


def ensure_local_user(session: Session) -> User:
    """The admin that a login-free install acts as; created on first start."""
    user = get_user(session, username=LOCAL_USER)
    return user or create_user(session, username=LOCAL_USER, role=Role.admin)


def account_status(user: User) -> str:
    """ "removed", "disabled" or "active", as the CLI and the Team page show it."""
    if user.removed_at is not None:
        return "removed"
    return "disabled" if user.disabled else "active"


def has_role(user: User | None, least: Role) -> bool:
    return user is not None and _RANK[Role(user.role)] >= _RANK[least]


def require_role(user: User | None, least: Role) -> User:
    if user is None:
        raise PermissionDenied("please log in first")
    if user.disabled:  # checked here too, so a disabled account's open page stops at its next action
        raise PermissionDenied(f"the account {user.username} is disabled; ask an admin")
    if not has_role(user, least):
        raise PermissionDenied(f"this needs the {least.value} role; {user.username} is a {user.role}")
    return user


# Account changes. Each takes the acting user (`by`; None: the command line) and records the change.


def _account(session: Session, username: str) -> User:
    """The named account, which must exist, not be removed, and not be the login-free install's user."""
    user = get_user(session, username=username.strip())
    if user is None:
        raise LookupError(f"no user named {username!r}")
    if user.removed_at is not None:
        raise ValueError(f"{user.username} was removed; add a new account under another name")
    if user.username == LOCAL_USER:
        raise ValueError(f"{LOCAL_USER!r} is the login-free install's own admin; it cannot be changed")
    return user


def _keep_an_admin(session: Session, user: User, change: str) -> None:
    """Refuse a change that would leave no admin able to log in: a team must not lock itself out."""
    if user.role != Role.admin or user.disabled or not user.password_hash:
        return  # not one of the admins who can log in: changing it leaves their number as it is
    others = session.exec(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.admin, col(User.id) != user.id, col(User.password_hash).is_not(None))
        .where(col(User.disabled).is_(False))
    ).one()
    if others == 0:
        raise ValueError(
            f"cannot {change} {user.username}: it is the last admin who can log in; make another admin first"
        )


def _commit(session: Session, user: User, *, by: User | None, action: Action, detail: str) -> User:
    session.add(user)
    session.commit()
    session.refresh(user)
    activity.record(session, user=by, action=action, detail=detail)
    return user


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown role {value!r}: one of {known}") from None


def set_role(session: Session, *, username: str, role: Role | str, by: User | None) -> User:
    user = _account(session, username)
    role = parse_role(role)  # a plain string from a form or a crafted request is checked here
    if role != Role.admin:
        _keep_an_admin(session, user, f"make a {role.value} of")
    detail = f"{user.username}: {Role(user.role).value} -> {role.value}"
    user.role = role
    return _commit(session, user, by=by, action=Action.user_role, detail=detail)


def disable(session: Session, *, username: str, by: User | None) -> User:
    """The account can no longer log in and its open sessions stop; everything it did stays."""
    user = _account(session, username)
    _keep_an_admin(session, user, "disable")
    user.disabled = True
    return _commit(session, user, by=by, action=Action.user_disable, detail=user.username)


def enable(session: Session, *, username: str, by: User | None) -> User:
    user = _account(session, username)
    user.disabled = False
    return _commit(session, user, by=by, action=Action.user_enable, detail=user.username)


def remove(session: Session, *, username: str, by: User | None) -> User:
    """Close the account for good, keeping its row as a tombstone so its work keeps its author's name.
    Its "assigned to me" queue goes back to the pool (nobody could work through it any more)."""
    user = _account(session, username)
    _keep_an_admin(session, user, "remove")
    user.disabled, user.removed_at, user.password_hash = True, utcnow(), None
    user.role = Role.viewer  # least privilege, whatever might one day read the role without the flags
    session.exec(
        update(Rationale).where(col(Rationale.assigned_to_id) == user.id).values(assigned_to_id=None)
    )
    return _commit(session, user, by=by, action=Action.user_remove, detail=user.username)


def set_password(session: Session, *, username: str, password: str, by: User | None) -> User:
    user = _account(session, username)
    _check_password(password)
    user.password_hash = hash_password(password)
    return _commit(session, user, by=by, action=Action.user_password, detail=user.username)
