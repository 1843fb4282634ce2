"""`socratic-studio compare`: two stored evaluations by name or id, in words or as JSON; an unknown run
or a pair with no shared problem is refused in one line."""

import json

from sqlmodel import Session, select
from typer.testing import CliRunner

from db.engine import open_database
from db.models import EvalRun, EvalTrace
from tests.backend.training.frozen_set import make_problems
from tests.webapp.cli.test_students import cli_home  # noqa: F401  (the fixture)
from webapp.cli.main import app

runner = CliRunner()


def _evaluations(url: str) -> tuple[int, int, int]:
    with Session(open_database(url)) as session:
        first, second, third = (p.id or 0 for p in make_problems(session))
        runs = [EvalRun(name=name, method="cot") for name in ("start", "round", "elsewhere")]
        session.add_all(runs)
        session.commit()
        start, after, elsewhere = (run.id or 0 for run in runs)
        graded = {
            start: {first: (False, False), second: (True, True), third: (False, False)},
            after: {first: (True, False), second: (True, True), third: (True, False)},
        }  # problem: (correct, seen in training)
        for run_id, traces in graded.items():
            session.add_all(
                EvalTrace(eval_run_id=run_id, problem_id=p, correct=ok, seen_in_training=seen)
                for p, (ok, seen) in traces.items()
            )
        session.commit()
        return start, after, elsewhere


def test_two_evaluations_are_compared_on_all_shared_problems_and_the_clean_ones(cli_home: str) -> None:  # noqa: F811
    start, after, _ = _evaluations(cli_home)
    result = runner.invoke(app, ["--db", cli_home, "compare", "start", str(after)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"start (#{start}) -> round (#{after}) on 3 shared problems." in result.output
    assert "Before 33.3% (1/3" in result.output and "exact McNemar p = 0.5 (+2/-0)" in result.output
    assert "On the 2 of 3 problems no student had seen in training: before 0.0% (0/2" in result.output

    as_json = runner.invoke(app, ["--db", cli_home, "compare", "start", "round", "--json"])
    payload = json.loads(as_json.output)
    assert (payload["n"], payload["wins"], payload["clean"]["n"], payload["after_name"]) == (3, 2, 2, "round")


def test_an_unknown_run_or_one_with_no_shared_problem_is_refused(cli_home: str) -> None:  # noqa: F811
    _evaluations(cli_home)
    unknown = runner.invoke(app, ["--db", cli_home, "compare", "start", "no-such-run"])
    assert unknown.exit_code == 1 and "no evaluation run with id or name 'no-such-run'" in unknown.output
    empty = runner.invoke(app, ["--db", cli_home, "compare", "start", "elsewhere"])
    assert empty.exit_code == 1 and "share no problem" in empty.output
    assert "Example: socratic-studio compare" in runner.invoke(app, ["compare", "--help"]).output


def test_changed_lists_the_problems_behind_the_counts(cli_home: str) -> None:  # noqa: F811
    start, _, _ = _evaluations(cli_home)
    with Session(open_database(cli_home)) as session:
        wrong_at_start = sorted(
            trace.problem_id
            for trace in session.exec(select(EvalTrace).where(EvalTrace.eval_run_id == start)).all()
            if not trace.correct
        )
    ids = " ".join(map(str, wrong_at_start))
    result = runner.invoke(app, ["--db", cli_home, "compare", "start", "round", "--changed"])
    assert result.exit_code == 0, result.output
    assert f"gained (2): {ids}" in result.output and "lost (0): -" in result.output
    backwards = runner.invoke(app, ["--db", cli_home, "compare", "round", "start", "--changed", "--json"])
    assert json.loads(backwards.output)["changed"] == {"gained": [], "lost": wrong_at_start}
    plain = runner.invoke(app, ["--db", cli_home, "compare", "round", "start", "--json"])
    assert "changed" not in json.loads(plain.output)
