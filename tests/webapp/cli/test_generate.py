"""`socratic-studio generate` and `prepare-model` through the real CLI, with a tiny local teacher."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from backend.teacher.default_model import DEFAULT_TEACHER_NAME, REQUIRED_FILES
from db.engine import open_database
from db.models import Job, JobStatus, Rationale, TeacherRun, Verdict
from db.settings import get_settings
from tests.factories import make_dataset, make_problem
from webapp.cli.main import app

runner = CliRunner()
FEW_SHOT = [{"question": "1 + 1?", "steps": [{"sub_question": "Sum?", "text": "1 + 1 = 2."}], "answer": "2"}]


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database with a 3-problem dataset `toy`; yields the --db URL."""
    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    with Session(open_database(url)) as session:
        dataset = make_dataset(session, name="toy")
        for index in range(3):
            make_problem(
                session, dataset, external_id=f"p{index}", question=f"Tom has {index} pens. How many?"
            )
    (tmp_path / "few_shot.json").write_text(json.dumps(FEW_SHOT))
    yield url
    get_settings.cache_clear()


def cli(url: str, *args: str, ok: bool = True) -> str:
    result = runner.invoke(app, ["--db", url, *args])
    assert (result.exit_code == 0) is ok, result.output
    assert "Traceback" not in result.output
    return result.output


def teacher_args(tiny_llama: Path, tmp_path: Path) -> list[str]:
    return [
        "--model",
        str(tiny_llama),
        "--max-tokens",
        "6",
        "--few-shot-file",
        str(tmp_path / "few_shot.json"),
    ]


def test_generate_runs_the_job_in_the_foreground(db_url: str, tiny_llama: Path, tmp_path: Path) -> None:
    output = cli(
        db_url, "generate", "--dataset", "toy", "--samples", "2", "--temperature", "0.8", "--limit", "2",
        "--batch-size", "1", *teacher_args(tiny_llama, tmp_path),
    )  # fmt: skip
    assert "job 1 succeeded: 2/2 problems" in output
    with Session(open_database(db_url)) as session:
        run = session.exec(select(TeacherRun)).one()
        rationales = session.exec(select(Rationale).where(Rationale.run_id == run.id)).all()
    assert (run.samples, run.temperature, run.few_shot) == (2, 0.8, FEW_SHOT)
    assert len(rationales) == 4 and all(r.verdict != Verdict.failed for r in rationales)


def test_generate_in_the_background_spawns_a_worker(db_url: str, tiny_llama: Path, tmp_path: Path) -> None:
    output = cli(db_url, "generate", "--dataset", "toy", "--background", *teacher_args(tiny_llama, tmp_path))
    assert "running in the background" in output
    engine = open_database(db_url)
    deadline = time.monotonic() + 120
    while True:
        with Session(engine) as session:
            job = session.exec(select(Job).order_by(col(Job.id).desc())).first()
            assert job is not None
        if job.status in (JobStatus.succeeded, JobStatus.failed):
            break
        assert time.monotonic() < deadline, job.message
        time.sleep(0.5)
    assert job.status == JobStatus.succeeded, job.error
    assert job.log_path and Path(job.log_path).exists()
    with Session(engine) as session:
        assert len(session.exec(select(Rationale)).all()) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope"], "error: no dataset named 'nope'"),
        (["--dataset", "toy", "--mode", "poem"], "error: mode must be one of"),
        (
            ["--dataset", "toy", "--few-shot-file", "/no/such/file.json"],
            "error: cannot read the few-shot file",
        ),
        (
            ["--dataset", "toy", "--backend", "openai", "--api-key-env", "NO_SUCH_KEY_VAR_X"],
            "NO_SUCH_KEY_VAR_X",
        ),
    ],
)
def test_bad_options_give_a_clear_error(db_url: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["--db", db_url, "generate", *args])
    assert result.exit_code == 1 and message in result.output, result.output


def test_prepare_model_reuses_a_prepared_folder(tmp_path: Path) -> None:
    target = tmp_path / DEFAULT_TEACHER_NAME
    target.mkdir()
    for name in REQUIRED_FILES:
        (target / name).write_text("{}")
    result = runner.invoke(app, ["prepare-model", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0 and f"default teacher ready: {target}" in result.output


def test_endpoints_are_chosen_by_name_and_urls_only_with_login_off(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = {"name": "lab", "base_url": "http://127.0.0.1:9/v1", "model": "smol", "api_key_env": "LAB_KEY"}
    monkeypatch.setenv("SOCRATIC_TEACHER_ENDPOINTS", json.dumps([lab]))
    monkeypatch.setenv("SOCRATIC_AUTH", "1")
    get_settings.cache_clear()
    free = ["generate", "--dataset", "toy", "--backend", "openai", "--model", "smol"]
    output = cli(db_url, *free, "--base-url", "http://127.0.0.1:9/v1", ok=False)
    assert "--base-url and --api-key-env are refused with login on; choose an endpoint (lab)" in output
    output = cli(
        db_url, "generate", "--dataset", "toy", "--model", "lab", "--option", "api_key_env=X", ok=False
    )
    assert "'api_key_env' is not allowed: teacher endpoints are configured on the server" in output
    output = cli(db_url, "generate", "--dataset", "toy", "--model", "gpt-4o-mini", ok=False)
    assert "'gpt-4o-mini' is not a model you can use here" in output and "endpoint (lab)" in output
    vllm = ["generate", "--dataset", "toy", "--backend", "vllm", "--option", "trust_remote_code=true"]
    assert "'trust_remote_code' is not allowed" in cli(db_url, *vllm, ok=False)
    with Session(open_database(db_url)) as session:
        assert session.exec(select(TeacherRun)).all() == []  # nothing stored for a refused run
