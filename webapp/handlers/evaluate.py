"""Evaluate a checkpoint (or any model) as a job, and list evaluation runs; used by the Train tab."""

from typing import Any

import gradio as gr
import pandas as pd
from sqlmodel import Session

from backend import catalog
from backend.paths import PathNotAllowed, confined_model
from db.models import Role
from webapp import strings
from webapp.context import AppContext, notify, user_error
from webapp.render import inert

S = strings.Train
DEFAULT_TEACHER_SPEC = "transformers:default"


class EvaluateHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    def model_choices(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Checkpoints (by id) and the default teacher, for the decomposer and solver pickers; datasets."""
        with self.app.session() as session:
            models = [(label, str(ckpt_id)) for label, ckpt_id in catalog.checkpoint_choices(session)]
            datasets = catalog.dataset_choices(session)
        models.append((f"teacher {DEFAULT_TEACHER_SPEC}", DEFAULT_TEACHER_SPEC))
        return gr.update(choices=models), gr.update(choices=models), gr.update(choices=datasets)

    def spec(self, session: Session, text: Any) -> dict[str, Any]:
        """A checkpoint id/name or BACKEND:MODEL as a spec; a local folder must be below the model roots."""
        from backend.evaluation.socratic import parse_model_spec

        value = str(text or "").strip()
        if not value:
            return {}
        spec = parse_model_spec(session, value)
        if "model" in spec:
            spec["model"] = confined_model(str(spec["model"]), roots=self.app.model_roots)
        return spec

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
                    decomposer=self.spec(session, decomposer)
                    if method in ("socratic", "divide_conquer")
                    else {},
                    solver=self.spec(session, solver),
                    dataset_id=int(dataset_id) if dataset_id else None,
                    split=(split or "").strip() or None,
                    limit=int(limit) if limit else None,
                )
                job, run = start_evaluation(session, config=config, created_by_id=user.id)
        except (ValueError, LookupError, PathNotAllowed) as error:
            raise user_error(str(error)) from error
        assert job.id is not None
        self.app.spawn(job.id)
        message = S.EVAL_STARTED.format(run_id=run.id, name=run.name, job_id=job.id)
        notify(message)
        return inert(message), self.runs()

    def runs(self) -> pd.DataFrame:
        with self.app.session() as session:
            rows = []
            for run in catalog.list_eval_runs(session, limit=30):
                accuracy = f"{run.n_correct / run.n_problems:.1%}" if run.n_problems else ""
                rows.append(
                    [run.id, run.name, run.method, str(run.status), run.n_problems, run.n_correct, accuracy]
                )
        return pd.DataFrame(rows, columns=S.EVAL_HEADERS)
