"""`socratic-studio`: the command line. Each group of subcommands lives in its own module.

Examples:
    socratic-studio serve
    socratic-studio import gsm8k ../shared/datasets/gsm8k/test_socratic.jsonl
    socratic-studio jobs list
"""

from typing import Annotated

import typer

from webapp.cli import data, generate, jobs, serve, students, users
from webapp.cli.common import CliState

app = typer.Typer(
    help="Socratic Studio: chain-of-thought distillation from teacher rationales to Socratic students.",
    no_args_is_help=True,
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
app.command("serve")(serve.serve)
generate.register(app)
students.register(app)
data.register(app)
