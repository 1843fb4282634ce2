"""`socratic-studio failures send`: the Failures page's "send to the annotation queue" from a script.

The failures of one evaluation run that the filters match (all of them, not a page) go to annotators as
the student's traces or as the training rationales of the same problems, flagged and/or in a named queue.
"""

import typer
from sqlmodel import Session

from backend.access.auth import ensure_local_user
from backend.annotation import named_queues
from backend.evaluation import failures
from backend.evaluation.failures import SEND_WHAT, FailureFilter
from webapp.cli.common import fail, state

app = typer.Typer(help="An evaluation's failures, sent to annotators.")


@app.command(
    "send",
    epilog="Example: socratic-studio failures send 12 --category arithmetic --what training "
    "--queue 'arithmetic errors'",
)
def send(
    ctx: typer.Context,
    run: int = typer.Argument(..., help="The evaluation run's id (Failures page, or `jobs list`)."),
    category: str | None = typer.Option(None, help="Only failures of this error category."),
    min_steps: int | None = typer.Option(None, help="Only traces with at least this many steps."),
    max_steps: int | None = typer.Option(None, help="Only traces with at most this many steps."),
    what: str = typer.Option("traces", help=" · ".join(f"{k}: {v}" for k, v in SEND_WHAT.items())),
    queue: str | None = typer.Option(None, help="A named annotation queue (created when new)."),
    flag: bool = typer.Option(True, "--flag/--no-flag", help="Flag the unreviewed ones for review."),
) -> None:
    """Send the run's matching failures to annotators; prints how many and where."""
    with Session(state(ctx).engine()) as session:
        run_filter = FailureFilter(min_steps=min_steps, max_steps=max_steps, error_category=category)
        try:
            failures.get_eval_run(session, eval_run_id=run)
            trace_ids = failures.failing_trace_ids(session, eval_run_id=run, failure_filter=run_filter)
            if not trace_ids:
                fail(f"evaluation run {run} has no failure that matches these filters")
            user = ensure_local_user(session)
            ids = failures.send_to_queue(
                session, trace_ids=trace_ids, by=user, flag=flag, queue_name=queue, what=what
            )
        except (LookupError, ValueError) as error:
            fail(str(error))
        into = f" in the queue {named_queues.check_queue_name(queue)!r}" if queue else ""
    typer.echo(f"{len(ids)} rationales of {len(trace_ids)} failures{into}")
