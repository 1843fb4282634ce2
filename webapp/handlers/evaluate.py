"""Evaluate a checkpoint (or any model) as a job, and list evaluation runs; used by the Train tab."""

from typing import Any

import gradio as gr
import pandas as pd

from backend.access import activity
from backend.access.limits import MAX_NAME_CHARS, check_label
from backend.evaluation.summary import contamination_cells
from backend.files.paths import PathNotAllowed
from backend.queries import catalog
from db.models import Role
from webapp import strings
from webapp.context import AppContext, notify, user_error
from webapp.handlers.models import model_choices, model_spec
from webapp.render import inert
from webapp.roles import needs

S = strings.Train


class EvaluateHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def model_choices(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Models for the decomposer and solver pickers, and datasets."""
        with self.app.session() as session:
            models = model_choices(session, self.app.settings)
            datasets = catalog.dataset_choices(session)
        return gr.update(choices=models), gr.update(choices=models), gr.update(choices=datasets)

    @needs(Role.annotator)
    def start(
        self,
        method: str,
        decomposer: Any,
        solver: Any,
        dataset_id: Any,
        split: str,
        limit: Any,
        request: gr.Request,
    ) -> tuple[str, pd.DataFrame]:
        from backend.evaluation.config import EvalConfig
        from backend.evaluation.job import start_evaluation

        user = self.app.require(request, Role.annotator)
        try:
            with self.app.session() as session:
                config = EvalConfig(
                    method=method,  # type: ignore[arg-type]  # EvalConfig validates it
                    decomposer=model_spec(self.app, session, decomposer)
                    if method in ("socratic", "divide_conquer")
                    else {},
                    solver=model_spec(self.app, session, solver),
                    dataset_id=int(dataset_id) if dataset_id else None,
                    split=check_label("the split", split or "", MAX_NAME_CHARS).strip() or None,
                    limit=int(limit) if limit else None,
                )
                job, run = start_evaluation(session, config=config, created_by_id=user.id)
                activity.record_job(session, user=user, job=job)
        except (ValueError, LookupError, PathNotAllowed) as error:
            raise user_error(str(error)) from error
        assert job.id is not None
        self.app.spawn(job.id)
        message = S.EVAL_STARTED.format(run_id=run.id, name=run.name, job_id=job.id)
        notify(message)
        return inert(message), self.runs()

    @needs(Role.viewer)
    def runs(self) -> pd.DataFrame:
        with self.app.session() as session:
            rows = []
            for run in catalog.list_eval_runs(session, limit=30):
                accuracy = f"{run.n_correct / run.n_problems:.1%}" if run.n_problems else ""
                seen, clean = contamination_cells(run.summary)
                counts = [run.n_problems, run.n_correct, accuracy, seen, clean]
                rows.append([run.id, run.name, run.method, str(run.status), *counts])
        return pd.DataFrame(rows, columns=S.EVAL_HEADERS)
