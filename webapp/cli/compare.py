"""`socratic-studio compare`: two stored evaluations compared problem by problem (backend.evaluation.paired),
on every problem both answered and on the clean subset, with Wilson intervals and the exact McNemar test.
A round does this for its own pair; this is for any two: a student against its control, or against
the one it started from on another dataset."""

import json

import typer
from sqlmodel import Session

from backend.evaluation.paired import compare_with_clean, describe, find_eval_run
from webapp.cli.common import fail, state

COMPARE_EXAMPLE = "socratic-studio compare round-3-before round-3-after"


def compare_command(
    ctx: typer.Context,
    before: str = typer.Argument(..., help="The first evaluation run (id or name; the newest of a name)."),
    after: str = typer.Argument(..., help="The evaluation run compared with it (`wins`: right only here)."),
    as_json: bool = typer.Option(False, "--json", help="The full comparison as JSON."),
    changed: bool = typer.Option(
        False, "--changed", help="Also list the problem ids right only after (gained) and only before (lost)."
    ),
) -> None:
    """Compare two evaluations on the problems both answered, and on those neither found in training."""
    with Session(state(ctx).engine()) as session:
        try:
            first, second = find_eval_run(session, before), find_eval_run(session, after)
        except LookupError as error:
            fail(str(error))
        result = compare_with_clean(session, first.id or 0, second.id or 0, changed=changed)
    if not result["n"]:
        fail(f"evaluations {first.name!r} and {second.name!r} share no problem: nothing to compare")
    if as_json:
        typer.echo(json.dumps(result | {"before_name": first.name, "after_name": second.name}, indent=2))
        return
    pair = f"{first.name} (#{first.id}) -> {second.name} (#{second.id})"
    typer.echo(f"{pair} on {result['n']} shared problems.")
    typer.echo(describe(result))
    if changed:
        for kind, ids in result["changed"].items():
            typer.echo(f"{kind} ({len(ids)}): {' '.join(map(str, ids)) or '-'}")


def register(app: typer.Typer) -> None:
    app.command("compare", epilog=f"Example: {COMPARE_EXAMPLE}")(compare_command)
