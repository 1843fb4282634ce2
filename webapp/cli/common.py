"""What every subcommand shares: the database chosen by --db / SOCRATIC_DATABASE_URL."""

from dataclasses import dataclass

import typer
from sqlalchemy.engine import Engine

from db.engine import open_database
from db.settings import Settings, get_settings


@dataclass
class CliState:
    database_url: str | None = None

    @property
    def settings(self) -> Settings:
        return get_settings()

    @property
    def url(self) -> str:
        return self.database_url or self.settings.resolved_database_url

    def engine(self) -> Engine:
        return open_database(self.url)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def fail(message: str, code: int = 1) -> None:
    """Print a clear error (no traceback) and exit non-zero."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)
