"""`socratic-studio users`: accounts and roles."""

import sys

import typer
from sqlmodel import Session

from backend import auth
from db.models import Role
from webapp.cli.common import fail, state

app = typer.Typer(
    help="Manage user accounts (needed when login is on: SOCRATIC_AUTH=1).", no_args_is_help=True
)


def _password(from_stdin: bool) -> str:
    """Typed at a prompt without echo (twice), or one line from standard input for scripts; never an
    argument, which would land in shell history and in every user's `ps`."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("--password-stdin: standard input held no password line")
        return line
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
def add(
    ctx: typer.Context,
    username: str,
    role: Role = typer.Option(Role.annotator, help="admin, annotator or viewer"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from the first line of standard input"
    ),
) -> None:
    """Add a user; the password is prompted for without echo.

    Example: socratic-studio users add alice --role annotator
    Scripts: printf '%s\n' "$PASSWORD" | socratic-studio users add alice --password-stdin
    """
    password = _password(password_stdin)
    with Session(state(ctx).engine()) as session:
        try:
            user = auth.create_user(session, username=username, role=role, password=password)
        except ValueError as error:
            fail(str(error))
        typer.echo(f"added {user.username} ({user.role})")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List users and roles. Example: socratic-studio users list"""
    with Session(state(ctx).engine()) as session:
        for user in auth.list_users(session):
            typer.echo(f"{user.id:>4}  {user.username:<24} {user.role}")
