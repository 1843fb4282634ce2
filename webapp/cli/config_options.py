"""CLI options generated from a run config's fields (name, type, default, help), as TRL builds its scripts'
arguments from its config dataclasses: the config stays the one source of every default.

`config_command(Config, skip=...)` wraps a command whose own options come first and whose `**fields`
receive the config's values; typer reads the combined signature.
"""

import inspect
from collections.abc import Callable, Collection, Mapping
from functools import wraps
from typing import Any

import typer
from pydantic import BaseModel


def _option(name: str, info: Any, aliases: Collection[str]) -> inspect.Parameter:
    flag = "--" + name.replace("_", "-")
    # A boolean field gets an on/off pair, like typer's own bool options.
    declared = [f"{flag}/--no-{flag[2:]}" if info.annotation is bool else flag, *aliases]
    default = info.get_default(call_default_factory=True)
    option = typer.Option(default, *declared, help=info.description, show_default=True)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=info.annotation)


def config_parameters(
    config: type[BaseModel], *, skip: Collection[str] = (), aliases: Mapping[str, Collection[str]] = {}
) -> list[inspect.Parameter]:
    """One keyword-only typer option per field of `config` not in `skip`, in the config's order."""
    return [
        _option(name, info, aliases.get(name, ()))
        for name, info in config.model_fields.items()
        if name not in skip
    ]


def config_command(
    config: type[BaseModel], *, skip: Collection[str] = (), aliases: Mapping[str, Collection[str]] = {}
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give `command(own options..., **fields)` one option per config field (`skip`: the fields the command
    sets from its own options, e.g. a set given by name or id)."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(command).parameters.values() if p.kind != p.VAR_KEYWORD]
        generated = config_parameters(config, skip=skip, aliases=aliases)
        clash = {p.name for p in own} & {p.name for p in generated}
        assert not clash, f"{command.__name__} declares config fields itself: {sorted(clash)}"

        @wraps(command)
        def wrapper(**values: Any) -> None:
            command(**values)

        wrapper.__signature__ = inspect.Signature([*own, *generated])  # type: ignore[attr-defined]
        return wrapper

    return decorate
