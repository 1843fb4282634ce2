"""Login sessions: bound to the account's id, ended by idle time, refused once the account may not act."""

from datetime import UTC, datetime

from sqlmodel import Session

from backend.access import auth
from backend.access.sessions import SessionBook, active_account, sign_in
from db.models import Role

PASSWORD = "correct-horse-battery"


def test_a_session_lasts_while_used_and_ends_when_idle(session: Session) -> None:
    user = auth.create_user(session, username="alice", role=Role.annotator, password=PASSWORD)
    book = SessionBook(idle_seconds=60)
    token = book.open(user, now=0.0)
    assert book.use(token, now=50.0) is not None
    assert book.use(token, now=100.0) is not None  # each use moves the deadline
    assert book.use(token, now=161.0) is None
    assert token not in book and book.use(token, now=161.0) is None
    assert book.use("made-up", now=0.0) is None


def test_a_recreated_name_disabled_or_removed_account_ends_the_session(session: Session) -> None:
    user = auth.create_user(session, username="victor", role=Role.viewer, password=PASSWORD)
    book = SessionBook(idle_seconds=60)
    binding = book.use(book.open(user, now=0.0), now=1.0)
    assert binding is not None and active_account(session, binding) == user
    user.disabled = True
    session.add(user)
    session.commit()
    assert active_account(session, binding) is None
    user.disabled, user.removed_at = False, datetime.now(UTC)
    session.add(user)
    session.commit()
    assert active_account(session, binding) is None
    session.delete(user)
    session.commit()
    auth.create_user(session, username="victor", role=Role.admin, password=PASSWORD)  # a new account
    assert active_account(session, binding) is None


def test_sign_in_needs_the_password_and_an_active_account(session: Session) -> None:
    user = auth.create_user(session, username="alice", role=Role.annotator, password=PASSWORD)
    assert sign_in(session, username="alice", password=PASSWORD) == user
    assert sign_in(session, username="alice", password="wrong") is None
    assert sign_in(session, username="nobody", password=PASSWORD) is None
    user.disabled = True
    session.add(user)
    session.commit()
    assert sign_in(session, username="alice", password=PASSWORD) is None


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(session: Session) -> None:
    user = auth.create_user(session, username="alice", role=Role.annotator, password=PASSWORD)
    book = SessionBook(idle_seconds=60)
    binding = book.use(book.open(user, now=0.0), now=1.0)
    assert binding is not None and active_account(session, binding) == user
    auth.set_password(session, username="alice", password="another-long-password", by=None)
    assert active_account(session, binding) is None
    fresh = book.use(book.open(session.get(type(user), user.id), now=2.0), now=3.0)
    assert fresh is not None and active_account(session, fresh) is not None
