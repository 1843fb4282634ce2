"""`socratic-studio`: the command line. Each group of subcommands lives in its own module.

Examples:
    socratic-studio serve
    socratic-studio import gsm8k ../shared/datasets/gsm8k/test_socratic.jsonl
    socratic-studio jobs list
    socratic-studio demo build
    socratic-studio export my-set --format processbench --out labels.jsonl
"""

from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError

from backend.display.errors import describe_db_error
from webapp.cli import compare, data, demo, failures, generate, jobs, rounds, serve, sets, students, users
from webapp.cli.common import CliState

app = typer.Typer(
    help="Socratic Studio: chain-of-thought distillation from teacher rationales to Socratic students.",
    no_args_is_help=True,
    epilog="Examples: socratic-studio serve · socratic-studio import gsm8k FILE · socratic-studio generate "
    "--dataset NAME --mode rationalize · socratic-studio sets create SET --filter-json JSON --freeze · "
    "socratic-studio train --set SET --kind decomposer · socratic-studio "
    "eval --method socratic --decomposer A --solver B --dataset NAME · socratic-studio export SET --format "
    "processbench --out labels.jsonl · socratic-studio round --student CKPT --eval-dataset NAME · "
    "socratic-studio demo build · socratic-studio jobs list "
    "(each command's --help has its own example)",
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="SOCRATIC_DATABASE_URL",
            help="Database URL (default: ~/.socratic-studio/studio.db).",
        ),
    ] = None,
) -> None:
    ctx.obj = CliState(database_url=db)


app.add_typer(users.app, name="users")
app.add_typer(jobs.app, name="jobs")
app.add_typer(demo.app, name="demo")
app.add_typer(sets.app, name="sets")
app.add_typer(failures.app, name="failures")
app.command("serve")(serve.serve)
generate.register(app)
students.register(app)
rounds.register(app)
compare.register(app)
data.register(app)


def run() -> None:
    """The console entry point: database failures end in one clear sentence, not a traceback."""
    try:
        app()
    except DBAPIError as error:
        typer.secho(f"error: {describe_db_error(error)}", fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
    except OSError as error:  # an unusable database folder, a missing file: say which, no traceback
        where = f": {error.filename}" if error.filename else ""
        typer.secho(f"error: {error.strerror or error}{where}", fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
