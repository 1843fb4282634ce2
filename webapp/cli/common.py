"""What every subcommand shares: the database chosen by --db / SOCRATIC_DATABASE_URL."""

import json
from dataclasses import dataclass
from typing import NoReturn

import typer
from sqlalchemy.engine import Engine

from backend.queries.filters import RationaleFilter
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


def rationale_filter_option(text: str | None) -> RationaleFilter | None:
    """The rationale filter `--filter-json` gives (None without one); a clear error for bad JSON, an
    unknown field or a wrong value type."""
    if text is None:
        return None
    try:
        return RationaleFilter.from_json(json.loads(text))
    except (ValueError, TypeError) as error:
        fail(f"--filter-json: {error}")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error (no traceback) and exit non-zero."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)
