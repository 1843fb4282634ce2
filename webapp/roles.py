"""The role each event of the app needs, declared beside its handler and enforced for every event.

Declare it on the handler (a method, a function or a closure), with the least role that may act:

    from webapp.roles import needs

    @needs(Role.viewer)        # reads: Explore, history, charts, a published step-through
    def page(self, ...): ...

    @needs(Role.annotator)     # writes, starts jobs, runs a typed model
    def save(self, ..., request: gr.Request): ...

`guard_events` (build_app calls it once every page is built) wraps each registered event's function so
the acting user's role is checked on the server before the handler runs, whatever the page shows or
hides: a crafted request to a private event is refused like any other. An event without a declaration
is closed to everyone below admin, and tests/webapp/test_event_roles.py fails naming it: every event
needs a decision. Handlers that need finer checks (which model a viewer may run) still make them.
"""

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import gradio as gr
from gradio.context import LocalContext

from db.models import Role
from webapp.context import AppContext

F = TypeVar("F", bound=Callable[..., Any])
ROLE_ATTRIBUTE = "__socratic_role__"
UNDECLARED_ROLE = Role.admin  # closed by default: an undeclared event is refused below admin


def needs(role: Role) -> Callable[[F], F]:
    """Mark a handler with the least role that may trigger it (read by `guard_events`)."""

    def mark(fn: F) -> F:
        setattr(fn, ROLE_ATTRIBUTE, role)
        return fn

    return mark


def declared_role(fn: Callable[..., Any] | None) -> Role | None:
    # A bound method reads the attribute from its function, so decorating a method works.
    return getattr(fn, ROLE_ATTRIBUTE, None) if fn is not None else None


def events(blocks: gr.Blocks) -> list[Any]:
    """Every registered event that runs a Python function (JavaScript-only events have none)."""
    return [block_fn for block_fn in blocks.fns.values() if block_fn.fn is not None]


def event_label(block_fn: Any) -> str:
    fn = block_fn.fn.__wrapped__ if hasattr(block_fn.fn, "__wrapped__") else block_fn.fn
    where = getattr(fn, "__qualname__", block_fn.name)
    return f"{where} (api_name={block_fn.api_name!r}, module {getattr(fn, '__module__', '?')})"


def undeclared(blocks: gr.Blocks) -> list[str]:
    """The events whose handler has no role decision."""
    return [event_label(fn) for fn in events(blocks) if declared_role(fn.fn) is None]


def _guard(fn: Callable[..., Any], role: Role, app: AppContext) -> Callable[..., Any]:
    """`fn` with the role check first; same kind of callable (gradio streams generators) and signature."""

    def check() -> None:
        # Gradio puts the event's request in this context variable for the duration of every call.
        app.require(LocalContext.request.get(None), role)

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            check()
            yield from fn(*args, **kwargs)

        guarded: Callable[..., Any] = generator
    elif inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"{fn!r}: async handlers are not guarded yet; write it as a plain function")
    else:

        @functools.wraps(fn)
        def plain(*args: Any, **kwargs: Any) -> Any:
            check()
            return fn(*args, **kwargs)

        guarded = plain
    guarded.__socratic_enforced__ = role  # type: ignore[attr-defined]  # what the guard checks
    return guarded


def guard_events(blocks: gr.Blocks, app: AppContext) -> None:
    """Wrap every event's function with its role check (once; calling it again changes nothing)."""
    for block_fn in events(blocks):
        if getattr(block_fn.fn, "__socratic_enforced__", None) is not None:
            continue
        block_fn.fn = _guard(block_fn.fn, declared_role(block_fn.fn) or UNDECLARED_ROLE, app)


def enforced_role(fn: Callable[..., Any]) -> Role | None:
    """The role the guard of an event's function checks (None: not guarded)."""
    return getattr(fn, "__socratic_enforced__", None)
