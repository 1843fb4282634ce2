"""Train: start a run from a frozen set, watch it (status and loss curve), compare runs, evaluate."""

from typing import Any

import gradio as gr
import pandas as pd
from plotly.graph_objects import Figure

from backend.access import activity
from backend.access.limits import MAX_NAME_CHARS, check_label
from backend.files.paths import PathNotAllowed, confined_model
from backend.queries import catalog, run_monitor
from db.models import Role
from webapp import charts, strings
from webapp.context import AppContext, notify, user_error
from webapp.handlers.models import model_text
from webapp.render import inert
from webapp.roles import needs

S = strings.Train


def numbers_given(**fields: tuple[type, Any]) -> dict[str, int | float]:
    """The numeric fields the user filled in, converted; an empty one is left out, so TrainConfig's own
    default (the measured recipe) applies rather than a second copy of it here."""
    given: dict[str, int | float] = {}
    for name, (kind, value) in fields.items():
        if value in (None, ""):
            continue
        try:
            given[name] = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name.replace('_', ' ')} must be a number, got {value!r}") from None
    return given


class TrainHandlers:
    def __init__(self, app: AppContext) -> None:
        self.app = app

    @needs(Role.viewer)
    def choices(self, current_run: Any = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Fresh frozen sets and training runs for the pickers (set, watched run, runs to compare)."""
        with self.app.session() as session:
            sets = catalog.set_choices(session, frozen_only=True)
            runs = catalog.training_run_choices(session)
        # The watched run stays; without one the newest is shown, so a reload lands on the live curve.
        ids = [run_id for _, run_id in runs]
        watched = current_run if current_run in ids else (ids[0] if ids else None)
        return gr.update(choices=sets), gr.update(choices=runs, value=watched), gr.update(choices=runs)

    @needs(Role.annotator)
    def start(
        self,
        set_id: Any,
        kind: str,
        base_model: str,
        name: str,
        epochs: float,
        max_steps: Any,
        learning_rate: float,
        batch_size: Any,
        max_length: Any,
        lora: bool,
        lora_r: Any,
        policy: str,
        skip_flagged: bool,
        device: str,
        compile_mode: str,
        request: gr.Request,
    ) -> tuple[str, dict[str, Any]]:
        """Record the run and its job (validated before anything trains), then start its worker."""
        from backend.training.config import TrainConfig
        from backend.training.job import start_training

        user = self.app.require(request, Role.annotator)
        if not set_id:
            raise user_error(S.NO_SET)
        try:
            config = TrainConfig(
                set_id=int(set_id),
                kind=kind,  # type: ignore[arg-type]  # validated (StudentKind) by TrainConfig
                base_model=confined_model(
                    model_text(base_model, "the base model") or "default", roots=self.app.model_roots
                ),
                name=check_label("the run name", name or "", MAX_NAME_CHARS).strip(),
                lora=bool(lora),
                filter_policy=policy,  # type: ignore[arg-type]
                skip_flagged_sub_questions=bool(skip_flagged),
                device=check_label("the device", device or "", MAX_NAME_CHARS) or "auto",
                compile=check_label("compile", compile_mode or "", MAX_NAME_CHARS) or "off",  # type: ignore[arg-type]
                **numbers_given(
                    epochs=(float, epochs), max_steps=(int, max_steps), learning_rate=(float, learning_rate),
                    batch_size=(int, batch_size), max_length=(int, max_length), lora_r=(int, lora_r),
                ),  # type: ignore[arg-type]
            )  # fmt: skip
            with self.app.session() as session:
                job, run = start_training(session, config=config, created_by_id=user.id)
                activity.record_job(session, user=user, job=job)
                choices = catalog.training_run_choices(session)
        except (ValueError, LookupError, PathNotAllowed) as error:
            raise user_error(str(error)) from error
        assert job.id is not None
        self.app.spawn(job.id)
        message = S.STARTED.format(run_id=run.id, name=run.name, job_id=job.id)
        notify(message)
        return inert(message), gr.update(choices=choices, value=run.id)

    @needs(Role.viewer)
    def watch(self, run_id: Any) -> tuple[str, Figure, Any]:
        """Status line, loss curve, and the run's job id (put in the cancel/resume field)."""
        line, figure = self.progress(run_id)
        if not run_id:
            return line, figure, gr.skip()
        with self.app.session() as session:
            job_id = run_monitor.get_run_status(session, run_id=int(run_id)).run.job_id
        return line, figure, job_id if job_id is not None else gr.skip()

    @needs(Role.viewer)
    def progress(self, run_id: Any) -> tuple[str, Figure]:
        """Status line and live loss curve from the database; polled by a gr.Timer."""
        if not run_id:
            return S.NO_RUN, charts.empty(S.CURVE)
        with self.app.session() as session:
            try:
                status = run_monitor.get_run_status(session, run_id=int(run_id))
            except LookupError as error:
                raise user_error(str(error)) from error
            curves = run_monitor.loss_curves(session, run_ids=[int(run_id)])
        job = status.job
        line = S.STATUS.format(
            name=inert(status.run.name),
            kind=status.run.student_kind,
            status=job.status if job else status.run.status,
            done=job.done if job else 0,
            total=job.total if job else 0,
            loss=S.LOSS.format(loss=status.last_loss) if status.last_loss is not None else "",
            eta=S.ETA.format(eta=status.eta_seconds) if status.eta_seconds else "",
        )
        figure = charts.lines(
            {status.run.name: curves[int(run_id)]}, title=S.CURVE, x_title="step", y_title="loss"
        )
        return line, figure

    @needs(Role.viewer)
    def compare(self, run_ids: list[Any] | None) -> tuple[Figure, pd.DataFrame]:
        """Overlaid loss curves and a parameter table (differences first) for the chosen runs."""
        ids = [int(run_id) for run_id in run_ids or []]
        if not ids:
            return charts.empty(S.CURVE), pd.DataFrame(columns=S.DIFF_HEADERS)
        with self.app.session() as session:
            curves = run_monitor.loss_curves(session, run_ids=ids)
            names = run_monitor.run_names(session, run_ids=ids)
            diff = run_monitor.config_diff(session, run_ids=ids)
        series = {f"#{run_id} {names.get(run_id, '')}": curve for run_id, curve in curves.items()}
        columns = [*S.DIFF_HEADERS, *(f"#{run_id}" for run_id in ids)]
        rows = [
            [row["parameter"], "yes" if row["differs"] else ""] + [str(row["values"].get(i)) for i in ids]
            for row in diff
        ]
        figure = charts.lines(series, title=S.CURVE, x_title="step", y_title="loss")
        return figure, pd.DataFrame(rows, columns=columns)
