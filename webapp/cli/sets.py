"""`socratic-studio sets list/create/freeze`: the Curate page's curated sets from a script.

A set holds the rationales a filter matches plus picked ids; freezing pins each to its current revision,
after which `train --set` and `export` can use it.
"""

import typer
from sqlmodel import Session

from backend.queries import catalog
from backend.sets import curation
from db.models import CuratedSet
from webapp.cli.common import fail, rationale_filter_option, state

app = typer.Typer(help="Curated sets: the rationales a student trains on, frozen before training.")


def find_set(session: Session, name_or_id: str) -> CuratedSet:
    """A set by name, or by id where the text is a number and no set has that name."""
    try:
        return curation.get_set_by_name(session, name=name_or_id)
    except LookupError:
        if not name_or_id.isdigit():
            raise
        return curation.get_set(session, set_id=int(name_or_id))


def _line(session: Session, curated_set: CuratedSet) -> str:
    assert curated_set.id is not None
    size = curation.set_size(session, set_id=curated_set.id)
    frozen = f"frozen {curated_set.frozen_at:%Y-%m-%d %H:%M}" if curated_set.frozen_at else "draft"
    return f"{curated_set.id:>4}  {curated_set.name}  {size:,} rationales  {frozen}"


@app.command("list", epilog="Example: socratic-studio sets list --frozen")
def list_sets(
    ctx: typer.Context, frozen: bool = typer.Option(False, "--frozen", help="Only the frozen sets.")
) -> None:
    """List curated sets, newest first: id, name, size, draft or frozen."""
    with Session(state(ctx).engine()) as session:
        sets = catalog.list_sets(session, frozen_only=frozen)
        for curated_set in sets:
            typer.echo(_line(session, curated_set))
    if not sets:
        typer.echo("no curated sets" + (" frozen yet" if frozen else " yet"))


@app.command(
    "create",
    epilog="Example: socratic-studio sets create gsm8k-correct --filter-json "
    '\'{"verdict": "correct", "dataset_id": 1}\' --freeze',
)
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The new set's name."),
    filter_json: str | None = typer.Option(
        None, "--filter-json", help='The rationales to hold, e.g. \'{"verdict": "correct"}\'.'
    ),
    pick: list[int] | None = typer.Option(None, "--pick", help="A rationale id to add (repeat)."),
    description: str = typer.Option("", help="What the set is for."),
    freeze: bool = typer.Option(False, "--freeze", help="Freeze it at once (ready for train and export)."),
) -> None:
    """Create a set from a rationale filter and/or picked rationale ids, as the Curate page does."""
    if filter_json is None and not pick:
        fail("give --filter-json, --pick or both: a set needs rationales")
    rationale_filter = rationale_filter_option(filter_json)
    with Session(state(ctx).engine()) as session:
        try:
            curated_set = curation.create_set(
                session,
                name=name,
                rationale_filter=rationale_filter,
                picks=pick or [],
                description=description,
            )
        except (ValueError, LookupError) as error:  # a taken name, an unknown picked id
            fail(str(error))
        assert curated_set.id is not None
        typer.echo(f"created {_line(session, curated_set).strip()}")
        if freeze:
            try:
                curated_set = curation.freeze(session, set_id=curated_set.id)
            except ValueError as error:  # an empty set stays a draft
                fail(f"not frozen: {error}")
            typer.echo(f"froze {_line(session, curated_set).strip()}")


@app.command("freeze", epilog="Example: socratic-studio sets freeze gsm8k-correct")
def freeze(ctx: typer.Context, name: str = typer.Argument(..., help="The set's name or id.")) -> None:
    """Freeze a set: each rationale pinned to its current revision; the set never changes again."""
    with Session(state(ctx).engine()) as session:
        try:
            curated_set = curation.freeze(session, set_id=find_set(session, name).id or 0)
        except (curation.SetFrozen, ValueError, LookupError) as error:
            fail(str(error))
        typer.echo(f"froze {_line(session, curated_set).strip()}")
