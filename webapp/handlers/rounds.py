"""Train page, "Improve a student by rounds": start a round (backend.rounds) and list the rounds with what
each kept and measured."""

from typing import Any

import gradio as gr
import pandas as pd

from backend.access import activity
from backend.access.limits import MAX_NAME_CHARS, check_label
from backend.jobs import store
from backend.queries import catalog
from db.models import Job, JobKind, Role, StudentKind
from webapp import strings
from webapp.context import AppContext, notify, user_error
from webapp.handlers.models import model_text
from webapp.handlers.train import numbers_given
from webapp.render import inert
from webapp.roles import needs

S = strings.Round


def _outcome(job: Job) -> str:
    """What a round measured (its message when done), where it stands, or why it stopped."""
    reason = (job.error or "").strip().splitlines()
    return f"{job.message} · {reason[-1]}" if reason else job.message


class RoundHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def choices(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The CoT students that can sample, and the datasets to evaluate on."""
        with self.app.session() as session:
            students = catalog.checkpoint_choices(session, role=StudentKind.cot)
            datasets = [name for name, _ in catalog.dataset_choices(session)]
        return gr.update(choices=students), gr.update(choices=datasets)

    @needs(Role.annotator)
    def start(
        self,
        student: Any,
        samples: Any,
        questions: Any,
        temperature: Any,
        rationalize: bool,
        distinct: bool,
        keep: str,
        eval_dataset: Any,
        eval_split: Any,
        eval_limit: Any,
        epochs: Any,
        request: gr.Request,
    ) -> tuple[str, pd.DataFrame]:
        """Check the round (its student and evaluation) before any job exists, then start its worker."""
        from backend.rounds.chain import start_round
        from backend.rounds.config import RoundConfig

        user = self.app.require(request, Role.annotator)
        if student in (None, ""):
            raise user_error(S.NO_STUDENT)
        try:
            counts = numbers_given(eval_limit=(int, eval_limit), questions=(int, questions))
            limit = counts.get("eval_limit") or None  # 0 (or empty): all of them
            sampled = counts.get("questions") or None
            config = RoundConfig(
                student=model_text(student, "the student"),
                rationalize=bool(rationalize),
                distinct=bool(distinct),
                keep=check_label("the keep policy", str(keep or ""), MAX_NAME_CHARS),  # type: ignore[arg-type]
                eval_dataset=check_label("the dataset", str(eval_dataset or ""), MAX_NAME_CHARS),
                eval_split=check_label("the split", str(eval_split or ""), MAX_NAME_CHARS).strip() or None,
                eval_limit=limit,
                questions=sampled,
                **numbers_given(
                    samples=(int, samples), temperature=(float, temperature), epochs=(float, epochs)
                ),
            )  # type: ignore[arg-type]
            with self.app.session() as session:
                job = start_round(session, config=config, created_by_id=user.id)
                activity.record_job(session, user=user, job=job)
        except (ValueError, LookupError) as error:
            raise user_error(str(error)) from error
        assert job.id is not None
        self.app.spawn(job.id)
        message = S.STARTED.format(job_id=job.id)
        notify(message)
        return inert(message), self.rounds()

    @needs(Role.viewer)
    def rounds(self) -> pd.DataFrame:
        """Every round, newest first: its student and settings, where it stands or what it measured (plain
        text cells: a table shows them as text, never as markdown)."""
        with self.app.session() as session:
            jobs = store.list_jobs(session, kind=JobKind.round, limit=50)
            names = {str(cid): label for label, cid in catalog.checkpoint_choices(session)}
            rows = [
                [
                    str(job.id),
                    names.get(str(job.params.get("student", "")), str(job.params.get("student", ""))),
                    str(job.params.get("samples", "")),
                    str(job.params.get("keep", "")),
                    str(job.status),
                    _outcome(job),
                ]
                for job in jobs
            ]
        return pd.DataFrame(rows, columns=S.HEADERS)
