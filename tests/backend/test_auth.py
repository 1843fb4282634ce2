import pytest

from backend import auth
from db.models import Role


def test_passwords_are_hashed_with_argon2_and_verified(session):
    user = auth.create_user(session, username="alice", role=Role.annotator, password="correct horse")
    assert user.password_hash is not None and user.password_hash.startswith("$argon2")
    assert auth.authenticate(session, username="alice", password="correct horse") is not None
    assert auth.authenticate(session, username="alice", password="wrong password") is None
    assert auth.authenticate(session, username="nobody", password="correct horse") is None


def test_duplicate_users_and_short_passwords_are_refused(session):
    auth.create_user(session, username="bob", role=Role.viewer, password="long enough")
    with pytest.raises(ValueError, match="already exists"):
        auth.create_user(session, username="bob", role=Role.viewer, password="long enough")
    with pytest.raises(ValueError, match="at least 8"):
        auth.create_user(session, username="carol", role=Role.viewer, password="short")


def test_roles_are_ranked(session):
    viewer = auth.create_user(session, username="v", role=Role.viewer)
    admin = auth.ensure_local_user(session)
    assert auth.require_role(admin, Role.annotator) is admin
    with pytest.raises(auth.PermissionDenied, match="annotator"):
        auth.require_role(viewer, Role.annotator)
    with pytest.raises(auth.PermissionDenied, match="log in"):
        auth.require_role(None, Role.viewer)
    assert auth.ensure_local_user(session).id == admin.id
