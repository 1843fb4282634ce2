"""`socratic-studio sets list/create/freeze`: the Curate page's sets from the command line."""

from sqlmodel import Session

from db.engine import open_database
from tests.backend.annotation.conftest import store_rationale
from tests.factories import make_dataset, make_problem
from tests.webapp.cli.test_data import cli, db_url  # noqa: F401 (db_url is a fixture)


def _rationales(url: str, count: int = 3) -> list[int]:
    cli(url, "jobs", "list")  # creates and migrates the database
    with Session(open_database(url)) as session:
        dataset = make_dataset(session)
        problems = [make_problem(session, dataset, external_id=f"p{i}") for i in range(count)]
        return [store_rationale(session, problem).id or 0 for problem in problems]


def test_create_freeze_and_list(db_url: str) -> None:  # noqa: F811
    first, second, _ = _rationales(db_url)
    assert "no curated sets yet" in cli(db_url, "sets", "list")
    output = cli(db_url, "sets", "create", "all", "--filter-json", "{}", "--freeze")
    assert "created" in output and "all  3 rationales" in output and "froze" in output
    output = cli(db_url, "sets", "create", "two", "--pick", str(first), "--pick", str(second))
    assert "two  2 rationales  draft" in output
    assert "two" not in cli(db_url, "sets", "list", "--frozen")
    assert "two  2 rationales  frozen" in cli(db_url, "sets", "freeze", "two")
    listed = cli(db_url, "sets", "list", "--frozen")
    assert "all  3 rationales  frozen" in listed and "two  2 rationales  frozen" in listed


def test_bad_input_is_a_clear_error_and_changes_nothing(db_url: str) -> None:  # noqa: F811
    _rationales(db_url)
    assert "a set needs rationales" in cli(db_url, "sets", "create", "none", ok=False)
    assert "--filter-json" in cli(db_url, "sets", "create", "x", "--filter-json", "{oops", ok=False)
    assert "verdit" in cli(db_url, "sets", "create", "x", "--filter-json", '{"verdit": "correct"}', ok=False)
    assert "999" in cli(db_url, "sets", "create", "x", "--pick", "999", ok=False)
    assert "no curated sets yet" in cli(db_url, "sets", "list")
    cli(db_url, "sets", "create", "all", "--filter-json", "{}", "--freeze")
    assert "already exists" in cli(db_url, "sets", "create", "all", "--filter-json", "{}", ok=False)
    assert "already frozen" in cli(db_url, "sets", "freeze", "all", ok=False)
    assert "no curated set named 'nope'" in cli(db_url, "sets", "freeze", "nope", ok=False)
    output = cli(
        db_url, "sets", "create", "empty", "--filter-json", '{"verdict": "incorrect"}', "--freeze", ok=False
    )
    assert "not frozen" in output and "is empty" in output
    assert "empty  0 rationales  draft" in cli(db_url, "sets", "list")


def test_each_sets_command_has_an_example(db_url: str) -> None:  # noqa: F811
    for command in ("list", "create", "freeze"):
        assert f"Example: socratic-studio sets {command}" in cli(db_url, "sets", command, "--help")
