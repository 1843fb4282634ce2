"""`socratic-studio users`: accounts and roles."""

import typer
from sqlmodel import Session

from backend import auth
from db.models import Role
from webapp.cli.common import fail, state

app = typer.Typer(
    help="Manage user accounts (needed when login is on: SOCRATIC_AUTH=1).", no_args_is_help=True
)


@app.command("add")
def add(
    ctx: typer.Context,
    username: str,
    role: Role = typer.Option(Role.annotator, help="admin, annotator or viewer"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Add a user. Example: socratic-studio users add alice --role annotator"""
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
