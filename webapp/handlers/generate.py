"""Generate: configure a teacher run, preview its prompt, start it as a job, list runs."""

import json
from typing import Any

import gradio as gr
import pandas as pd
from sqlmodel import select

from backend import model_ref
from backend.access import activity
from backend.access.limits import MAX_NAME_CHARS, MAX_OPTIONS_CHARS, InputRefused, check_label, check_length
from backend.queries import catalog
from backend.queries.filters import ProblemFilter
from db.models import Role, TeacherRun
from webapp import strings
from webapp.context import AppContext, notify, user_error
from webapp.render import inert
from webapp.roles import needs

S = strings.Generate


def _options(text: str | None) -> dict[str, Any]:
    try:
        check_length("the backend options text", text or "", MAX_OPTIONS_CHARS)
        options = json.loads(text or "{}") if (text or "").strip() else {}
    except InputRefused as error:
        raise user_error(str(error)) from error
    except json.JSONDecodeError as error:
        raise user_error(S.BAD_OPTIONS.format(error=error)) from error
    if not isinstance(options, dict):
        raise user_error(S.BAD_OPTIONS.format(error="not an object"))
    return options


class GenerateHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def choices(self) -> dict[str, Any]:
        with self.app.session() as session:
            names = [name for name, _ in catalog.dataset_choices(session)]
        return gr.update(choices=names, value=names[0] if names else None)

    @needs(Role.viewer)
    def models(self) -> dict[str, Any]:
        """The default model, the configured teacher endpoints, then registered checkpoints (a folder
        below the model roots may be typed)."""
        models = [(S.DEFAULT_MODEL, model_ref.DEFAULT_MODEL)]
        models += [
            (S.ENDPOINT_MODEL.format(name=e.name, model=e.model), e.name)
            for e in self.app.settings.teacher_endpoints
        ]
        with self.app.session() as session:
            models += [(label, str(id_)) for label, id_ in catalog.checkpoint_choices(session)]
        return gr.update(choices=models)

    @needs(Role.viewer)
    def template(self, mode: str) -> str:
        """The mode's default template, put in the editor when the mode changes."""
        from backend.teacher.prompts import default_template

        return default_template(mode)

    @needs(Role.viewer)
    def preview(self, mode: str, dataset: str, split: str, template: str, show_gold: bool) -> str:
        """The exact first prompt of the run (the first problem of the selection)."""
        from backend.teacher.prompts import default_few_shot, problem_prompts

        if not dataset:
            raise user_error(S.NO_DATASET)
        with self.app.session() as session:
            dataset_id = dict(catalog.dataset_choices(session)).get(dataset)
            problem = catalog.first_problem(session, dataset_id=dataset_id, split=(split or "").strip())
        if problem is None:
            raise user_error(S.NO_DATASET)
        try:
            prompts = problem_prompts(
                mode, problem, template=template, few_shot=default_few_shot(), show_gold=show_gold
            )
        except (ValueError, KeyError, IndexError) as error:
            raise user_error(str(error)) from error
        return prompts[0]

    @needs(Role.annotator)
    def start(
        self,
        backend: str,
        model: str,
        mode: str,
        dataset: str,
        split: str,
        limit: Any,
        samples: Any,
        temperature: float,
        show_gold: bool,
        template: str,
        name: str,
        options: str,
        request: gr.Request,
    ) -> tuple[str, pd.DataFrame, int]:
        """Record the run and its job, start the worker; returns a message, the runs and the job id."""
        from backend.teacher.config import GenerationConfig
        from backend.teacher.job import start_generation

        user = self.app.require(request, Role.annotator)
        if not dataset:
            raise user_error(S.NO_DATASET)
        try:
            with self.app.session() as session:  # the model and options, checked before anything is stored
                ref = model_ref.resolve(
                    session, model or model_ref.DEFAULT_MODEL, settings=self.app.settings, backend=backend,
                    options=_options(options),
                )  # fmt: skip
            config = GenerationConfig(
                backend=ref.backend,
                model=ref.model,
                mode=mode,
                dataset=dataset,
                problem_filter=ProblemFilter(
                    split=(split or "").strip() or None, limit=int(limit) if limit else None
                ),
                samples=int(samples or 1),
                temperature=float(temperature or 0.0),
                show_gold=bool(show_gold),
                template=template if (template or "").strip() else None,
                name=check_label("the run name", name or "", MAX_NAME_CHARS),
                backend_options=ref.options,
            )
            with self.app.session() as session:
                job = start_generation(session, config=config, created_by_id=user.id)
                run_id = session.exec(select(TeacherRun.id).where(TeacherRun.job_id == job.id)).one()
                activity.record_job(session, user=user, job=job)
        except (ValueError, LookupError) as error:  # PathNotAllowed is a ValueError
            raise user_error(str(error)) from error
        assert job.id is not None
        self.app.spawn(job.id)
        message = S.STARTED.format(run_id=run_id, job_id=job.id)
        notify(message)
        return inert(message), self.runs(), job.id

    @needs(Role.viewer)
    def runs(self) -> pd.DataFrame:
        with self.app.session() as session:
            runs = catalog.teacher_runs_with_counts(session)
        rows = [
            [run.id, run.name, run.backend, run.model, str(run.mode), run.samples, stored,
             run.tokens_in, run.tokens_out, round(run.wall_seconds, 1)]
            for run, stored in runs
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=S.RUN_HEADERS)
