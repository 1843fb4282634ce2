"""`socratic-studio users`: accounts and roles: add, list, set-role, disable, enable, remove, passwd.

Every change made here is recorded in the activity log with "(command line)" as the actor.
"""

import sys
from collections.abc import Callable

import typer
from sqlmodel import Session

from backend.access import activity, auth
from db.models import Role, User
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
        activity.record(session, user=None, action=activity.Action.user_add, detail=user.username)
        typer.echo(f"added {user.username} ({user.role})")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List users, roles and whether each may log in. Example: socratic-studio users list"""
    with Session(state(ctx).engine()) as session:
        for user in auth.list_users(session):
            typer.echo(f"{user.id:>4}  {user.username:<24} {user.role:<10} {auth.account_status(user)}")


def _change(ctx: typer.Context, change: Callable[[Session], User], done: str) -> None:
    """Run one account change with clear errors (unknown user, last admin...) and say what it did."""
    with Session(state(ctx).engine()) as session:
        try:
            user = change(session)
        except (ValueError, LookupError) as error:
            fail(str(error))
        typer.echo(done.format(user=user.username, role=user.role))


@app.command("set-role")
def set_role(ctx: typer.Context, username: str, role: Role) -> None:
    """Give a user another role (admin, annotator or viewer); the last admin cannot be demoted.

    Example: socratic-studio users set-role alice admin
    """
    _change(ctx, lambda s: auth.set_role(s, username=username, role=role, by=None), "{user} is now {role}")


@app.command("disable")
def disable(ctx: typer.Context, username: str) -> None:
    """Stop a user from logging in (their open sessions stop too); their work stays. Undo with enable.

    Example: socratic-studio users disable alice
    """
    _change(ctx, lambda s: auth.disable(s, username=username, by=None), "disabled {user}")


@app.command("enable")
def enable(ctx: typer.Context, username: str) -> None:
    """Let a disabled user log in again.

    Example: socratic-studio users enable alice
    """
    _change(ctx, lambda s: auth.enable(s, username=username, by=None), "enabled {user}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    username: str,
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
) -> None:
    """Remove a user for good: they cannot log in again and the name stays taken, while their reviews
    and edits keep their name. Asks for confirmation unless --yes.

    Example: socratic-studio users remove alice --yes
    """
    if not yes and not typer.confirm(f"Remove {username} for good? Their work keeps their name."):
        fail("nothing removed")
    _change(ctx, lambda s: auth.remove(s, username=username, by=None), "removed {user}")


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    username: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from the first line of standard input"
    ),
) -> None:
    """Set a user's password; prompted for without echo (twice).

    Example: socratic-studio users passwd alice
    Scripts: printf '%s\n' "$PASSWORD" | socratic-studio users passwd alice --password-stdin
    """
    password = _password(password_stdin)
    _change(
        ctx,
        lambda s: auth.set_password(s, username=username, password=password, by=None),
        "password set for {user}",
    )
