"""Generate's handlers on a seeded database: the prompt preview and a run's start refuse hostile templates
and overlong texts with a message, and store nothing (issue 26)."""

import time

import gradio as gr
import pytest
from sqlmodel import Session, func, select

from db.models import Job, Rationale, TeacherRun, User
from tests.webapp.conftest import as_user
from webapp.context import AppContext
from webapp.handlers.generate import GenerateHandlers


@pytest.fixture
def no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AppContext, "spawn", lambda self, job_id: None)  # rows only, no processes


def test_the_preview_fills_placeholders_literally(app: AppContext, rationales: list[Rationale]) -> None:
    prompt = GenerateHandlers(app).preview("cot", "toy", "", "{{literal}} Q: {question}", False)
    assert prompt.startswith("{literal} Q: Tom has 2 boxes")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{question:>200000000}", "not valid"),  # returned 200 MB and grew the server by 1.1 GB
        ("{question:{question.__class__.__mro__}}", "not valid"),  # was evaluated and echoed
        ("{question}" + "x" * 30_000, "the prompt template is too long"),
    ],
)
def test_the_preview_refuses_hostile_templates_at_once(
    app: AppContext, rationales: list[Rationale], template: str, message: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(gr.Error, match=message):
        GenerateHandlers(app).preview("cot", "toy", "", template, False)
    assert time.perf_counter() - started < 1


def test_a_start_with_an_overlong_name_options_or_template_stores_nothing(
    auth_app: AppContext, users: dict[str, User], rationales: list[Rationale], session: Session, no_workers
) -> None:
    def start(template: str, name: str, options: str) -> None:
        form = ("transformers", "", "cot", "toy", "", 1, 1, 0.0, False, template, name, options)
        GenerateHandlers(auth_app).start(*form, as_user("bob"))

    before = [session.exec(select(func.count()).select_from(table)).one() for table in (TeacherRun, Job)]
    for (template, name, options), message in [
        (("", "r" * 101, ""), "the run name is too long"),
        (("", "run\u202e", ""), "U\\+202E"),
        (("", "", '{"x": "' + "y" * 5_000 + '"}'), "the backend options text is too long"),
        (("{question:>99}", "", ""), "not valid"),
    ]:
        with pytest.raises(gr.Error, match=message):
            start(template, name, options)
    after = [session.exec(select(func.count()).select_from(table)).one() for table in (TeacherRun, Job)]
    assert after == before
