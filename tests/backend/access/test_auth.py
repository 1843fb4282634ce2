import statistics
import time

import pytest

from backend.access import auth
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


# Accounts a team can manage (issue 26): timing, disabled accounts, role changes, removal, passwords.

PASSWORD = "correct horse"


def _team(session):
    admin = auth.create_user(session, username="root", role=Role.admin, password=PASSWORD)
    alice = auth.create_user(session, username="alice", role=Role.annotator, password=PASSWORD)
    return admin, alice


def test_an_unknown_user_costs_one_argon2_check_like_a_known_one(session, monkeypatch):
    _team(session)
    checked = []
    real = auth._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            checked.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(auth, "_hasher", Counting())
    for username in ("alice", "nobody", auth.LOCAL_USER):
        assert auth.authenticate(session, username=username, password="wrong password") is None
    assert len(checked) == 3 and all(stored.startswith("$argon2") for stored in checked)


def _median_seconds(session, username: str) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        auth.authenticate(session, username=username, password="wrong password")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_an_unknown_user_takes_as_long_as_a_wrong_password(session):
    _team(session)
    known, unknown = _median_seconds(session, "alice"), _median_seconds(session, "nobody")
    assert unknown > known / 3, (known, unknown)  # was 1.7 ms against 163 ms: about 100 times less


def test_a_disabled_account_cannot_log_in_or_act_and_comes_back_enabled(session):
    admin, _ = _team(session)
    auth.disable(session, username="alice", by=admin)
    assert auth.authenticate(session, username="alice", password=PASSWORD) is None
    with pytest.raises(auth.PermissionDenied, match="disabled"):
        auth.require_role(auth.get_user(session, username="alice"), Role.viewer)
    auth.enable(session, username="alice", by=admin)
    assert auth.authenticate(session, username="alice", password=PASSWORD) is not None


def test_set_role_checks_the_role_and_the_name(session):
    admin, _ = _team(session)
    assert auth.set_role(session, username="alice", role=Role.admin, by=admin).role == Role.admin
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        auth.set_role(session, username="alice", role="boss", by=admin)  # type: ignore[arg-type]
    with pytest.raises(LookupError, match="no user named 'zed'"):
        auth.set_role(session, username="zed", role=Role.viewer, by=admin)


@pytest.mark.parametrize(
    "change",
    [
        lambda s, by: auth.set_role(s, username="root", role=Role.annotator, by=by),
        lambda s, by: auth.disable(s, username="root", by=by),
        lambda s, by: auth.remove(s, username="root", by=by),
    ],
    ids=["demote", "disable", "remove"],
)
def test_the_last_admin_who_can_log_in_stays(session, change):
    admin, _ = _team(session)
    auth.ensure_local_user(session)  # a passwordless admin does not count: nobody can log in as it
    with pytest.raises(ValueError, match="last admin"):
        change(session, admin)
    assert auth.get_user(session, username="root").role == Role.admin
    auth.set_role(session, username="alice", role=Role.admin, by=admin)
    change(session, admin)  # with a second admin the change is allowed


def test_the_login_free_installs_own_admin_cannot_be_changed(session):
    admin, _ = _team(session)
    auth.ensure_local_user(session)
    with pytest.raises(ValueError, match="login-free"):
        auth.disable(session, username=auth.LOCAL_USER, by=admin)


def test_a_removed_account_keeps_its_name_on_its_work_and_its_name_is_not_reused(session):
    from backend import annotation
    from backend.annotation.view import changes_since
    from tests.factories import make_dataset, make_problem, make_rationale

    admin, alice = _team(session)
    rationale = make_rationale(session, make_problem(session, make_dataset(session)))
    annotation.review_rationale(
        session,
        rationale_id=rationale.id,
        expected_version=rationale.version,
        verdict="accept",
        reviewer=alice,
    )
    rationale.assigned_to_id = alice.id
    session.add(rationale)
    session.commit()
    auth.remove(session, username="alice", by=admin)
    session.expire_all()
    assert any(
        line.startswith("alice reviewed")
        for line in changes_since(session, rationale_id=rationale.id, version=0)
    )
    assert session.get(type(rationale), rationale.id).assigned_to_id is None
    assert auth.authenticate(session, username="alice", password=PASSWORD) is None
    with pytest.raises(ValueError, match="already exists"):
        auth.create_user(session, username="alice", role=Role.viewer, password=PASSWORD)
    with pytest.raises(ValueError, match="was removed"):
        auth.enable(session, username="alice", by=admin)


def test_set_password_refuses_a_short_one_and_replaces_the_old(session):
    admin, _ = _team(session)
    with pytest.raises(ValueError, match="at least 8"):
        auth.set_password(session, username="alice", password="short", by=admin)
    auth.set_password(session, username="alice", password="a new long one", by=admin)
    assert auth.authenticate(session, username="alice", password=PASSWORD) is None
    assert auth.authenticate(session, username="alice", password="a new long one") is not None


def test_every_account_change_is_recorded_with_who_made_it(session):
    from backend.access import activity

    admin, _ = _team(session)
    auth.set_role(session, username="alice", role=Role.viewer, by=admin)
    auth.disable(session, username="alice", by=None)
    auth.enable(session, username="alice", by=admin)
    auth.set_password(session, username="alice", password="a new long one", by=admin)
    auth.remove(session, username="alice", by=admin)
    rows = [(e.username, e.action, e.detail) for e in activity.recent(session, limit=10)]
    assert rows == [
        ("root", "account removed", "alice"),
        ("root", "password reset", "alice"),
        ("root", "account enabled", "alice"),
        (activity.COMMAND_LINE, "account disabled", "alice"),
        ("root", "role changed", "alice: annotator -> viewer"),
    ]


def test_get_user_by_id(session):
    admin, _ = _team(session)
    assert auth.get_user_by_id(session, user_id=admin.id).username == "root"
    assert auth.get_user_by_id(session, user_id=9999) is None


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("x" * 65, PASSWORD, "at most 64"),
        ("ali\u202ece", PASSWORD, "control or formatting"),
        ("nul\x00l", PASSWORD, "control or formatting"),
        ("   ", PASSWORD, "must not be empty"),
        ("ok", "y" * 1_025, "at most 1024"),
    ],
)
def test_hostile_usernames_and_passwords_are_refused(session, username, password, message):
    with pytest.raises(ValueError, match=message):
        auth.create_user(session, username=username, role=Role.viewer, password=password)
