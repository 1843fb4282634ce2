from backend.access import activity, auth
from backend.access.activity import Action
from db.models import Role


def test_entries_come_newest_first_and_page_back(session):
    admin = auth.create_user(session, username="root", role=Role.admin)
    for n in range(5):
        activity.record(session, user=admin, action=Action.job_start, detail=f"job {n}")
    assert activity.count(session) == 5
    assert [e.detail for e in activity.recent(session, limit=2)] == ["job 4", "job 3"]
    assert [e.detail for e in activity.recent(session, limit=2, offset=4)] == ["job 0"]


def test_an_entry_keeps_the_actors_name_and_cuts_a_long_detail(session):
    admin = auth.create_user(session, username="root", role=Role.admin)
    entry = activity.record(session, user=admin, action=Action.export, detail="x" * 10_000)
    assert (entry.user_id, entry.username, entry.action) == (admin.id, "root", "export")
    assert len(entry.detail) == activity.MAX_DETAIL
    assert activity.record(session, user=None, action=Action.user_add).username == activity.COMMAND_LINE
