"""`socratic-studio import ...` and `socratic-studio export`: datasets in, training files out."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from backend.importers import (
    ColumnMap,
    ImportFailure,
    ImportReport,
    import_gsm8k,
    import_hf,
    import_reasoning_gym,
    import_strategyqa,
    import_svamp,
    import_table,
)
from backend.sets.exporters import EXPORT_FORMATS, ExportReport, export_records, records_for_filter
from backend.sets.step_label_export import STEP_LABEL_FORMATS, StepLabelReport, export_step_labels
from db.models import StudentKind
from webapp.cli.common import fail, rationale_filter_option, state

import_app = typer.Typer(
    help="Import problems from dataset files or generators.\n\n"
    "Imports are idempotent (running one again adds nothing) and atomic (one bad row: nothing is "
    "imported, and the error names file, line and field).\n\n"
    "Example: socratic-studio import gsm8k ../shared/datasets/gsm8k/test_socratic.jsonl",
    no_args_is_help=True,
)

Name = Annotated[
    str | None, typer.Option(help="Dataset name to import into (default depends on the source).")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
QuestionCol = Annotated[str, typer.Option("--question-col", help="Column holding the question.")]
AnswerCol = Annotated[str, typer.Option("--answer-col", help="Column holding the gold answer ('' for none).")]
SolutionCol = Annotated[
    str | None, typer.Option("--solution-col", help="Column with a step-per-line solution (GSM8K style).")
]
IdCol = Annotated[str | None, typer.Option("--id-col", help="Column with a unique id (default: row number).")]
SplitCol = Annotated[str | None, typer.Option("--split-col", help="Column naming each row's split.")]
AnswerType = Annotated[str, typer.Option("--answer-type", help="numeric, yes_no, choice or text.")]


def _run(ctx: typer.Context, do_import: Callable[[Session], ImportReport]) -> None:
    with Session(state(ctx).engine()) as session:
        try:
            report = do_import(session)
        except ImportFailure as error:
            fail(f"{error}\nnothing was imported")
    typer.echo(report.summary())


def _columns(
    question: str, answer: str, solution: str | None, id_col: str | None, split: str | None
) -> ColumnMap:
    return ColumnMap(question=question, answer=answer or None, solution=solution, id=id_col, split=split)


@import_app.command("gsm8k")
def gsm8k(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A GSM8K JSONL file (main or Socratic format).")],
    split: Annotated[
        str | None, typer.Option(help="Split (default: from the file name: test, train).")
    ] = None,
    name: Name = None,
    quiet: Quiet = False,
) -> None:
    """GSM8K JSONL, main or Socratic format ("sub-question ** step" lines are detected).

    Example: socratic-studio import gsm8k ../shared/datasets/gsm8k/test_socratic.jsonl
    """
    _run(ctx, lambda s: import_gsm8k(s, path, split=split, name=name, show_progress=not quiet))


@import_app.command("svamp")
def svamp(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="SVAMP.json")],
    split: Annotated[str, typer.Option(help="Split to file the problems under.")] = "test",
    name: Annotated[str, typer.Option(help="Dataset name.")] = "svamp",
    quiet: Quiet = False,
) -> None:
    """SVAMP.json: Body + Question, float answers, Equation and Type kept.

    Example: socratic-studio import svamp ../shared/datasets/svamp/SVAMP.json
    """
    _run(ctx, lambda s: import_svamp(s, path, split=split, name=name, show_progress=not quiet))


@import_app.command("strategyqa")
def strategyqa(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="BIG-bench strategyqa task.json")],
    split: Annotated[str, typer.Option(help="Split to file the problems under.")] = "train",
    name: Annotated[str, typer.Option(help="Dataset name.")] = "strategyqa",
    quiet: Quiet = False,
) -> None:
    """StrategyQA from BIG-bench: yes/no answers, explanations kept as gold solutions.

    Example: socratic-studio import strategyqa ../shared/datasets/strategyqa/task.json
    """
    _run(ctx, lambda s: import_strategyqa(s, path, split=split, name=name, show_progress=not quiet))


@import_app.command("reasoning-gym")
def reasoning_gym(
    ctx: typer.Context,
    generator: Annotated[str, typer.Argument(help="Generator name, e.g. gsm_symbolic or basic_arithmetic.")],
    size: Annotated[int, typer.Option(help="How many problems to generate.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed (the same seed gives the same problems).")] = 42,
    split: Annotated[str, typer.Option(help="Split to file the problems under.")] = "train",
    name: Name = None,
    quiet: Quiet = False,
) -> None:
    """Generate problems offline with reasoning-gym (gsm_symbolic brings reference rationales).

    Example: socratic-studio import reasoning-gym gsm_symbolic --size 50 --seed 42
    """
    _run(
        ctx,
        lambda s: import_reasoning_gym(
            s, generator, size=size, seed=seed, split=split, name=name, show_progress=not quiet
        ),
    )


@import_app.command("table")
def table(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A .jsonl, .json (array) or .csv file.")],
    question_col: QuestionCol = "question",
    answer_col: AnswerCol = "answer",
    solution_col: SolutionCol = None,
    id_col: IdCol = None,
    split_col: SplitCol = None,
    split: Annotated[str, typer.Option(help="Split for rows without a split column.")] = "train",
    answer_type: AnswerType = "numeric",
    name: Annotated[str | None, typer.Option(help="Dataset name (default: the file name).")] = None,
    quiet: Quiet = False,
) -> None:
    """Any JSONL/JSON/CSV file, with the columns named.

    Example: socratic-studio import table mine.csv --question-col q --answer-col a --id-col id
    """
    columns = _columns(question_col, answer_col, solution_col, id_col, split_col)
    _run(
        ctx,
        lambda s: import_table(
            s, path, columns=columns, split=split, name=name, answer_type=answer_type, show_progress=not quiet
        ),
    )


@import_app.command("hf")
def hf(
    ctx: typer.Context,
    name_or_path: Annotated[str, typer.Argument(help="A save_to_disk folder, or a name load_dataset knows.")],
    question_col: QuestionCol = "question",
    answer_col: AnswerCol = "answer",
    solution_col: SolutionCol = None,
    id_col: IdCol = None,
    split: Annotated[str | None, typer.Option(help="Only this split (default: all).")] = None,
    config: Annotated[str | None, typer.Option(help="Dataset configuration, e.g. 'socratic'.")] = None,
    answer_type: AnswerType = "numeric",
    name: Annotated[str | None, typer.Option(help="Dataset name (default: the last path part).")] = None,
    quiet: Quiet = False,
) -> None:
    """A Hugging Face dataset (datasets.load_from_disk or load_dataset), columns named as for tables.

    Example: socratic-studio import hf ~/data/gsm8k_saved --question-col question --answer-col answer
    """
    columns = _columns(question_col, answer_col, solution_col, id_col, None)
    _run(
        ctx,
        lambda s: import_hf(
            s,
            name_or_path,
            columns=columns,
            split=split,
            config=config,
            name=name,
            answer_type=answer_type,
            show_progress=not quiet,
        ),
    )


def export(
    ctx: typer.Context,
    set_name: Annotated[str | None, typer.Argument(help="A frozen curated set's name.")] = None,
    kind: Annotated[
        StudentKind, typer.Option(help="The student kind the examples are for.")
    ] = StudentKind.cot,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help=f"Training data: {', '.join(EXPORT_FORMATS)}; annotators' step labels: "
            f"{', '.join(STEP_LABEL_FORMATS)} (needs step ratings from Annotate).",
        ),
    ] = "prompt_completion",
    out: Annotated[
        str, typer.Option("--out", help="File (or folder for 'dataset'), below the export root.")
    ] = "",
    filter_json: Annotated[
        str | None,
        typer.Option(
            "--filter-json", help='A rationale filter instead of a set, e.g. \'{"verdict": "correct"}\'.'
        ),
    ] = None,
) -> None:
    """Write a curated set (or any filter) as training data for a student kind, or as step labels.

    Example: socratic-studio export my-set --kind decomposer --format messages --out decomposer.jsonl

    Step labels: socratic-studio export my-set --format processbench --out my-set-labels.jsonl
    """
    from backend.sets.curation import frozen_records, get_set_by_name

    if (set_name is None) == (filter_json is None):
        fail("give either a set name or --filter-json (one of them)")
    if not out:
        fail("--out is required: a path below the export root (SOCRATIC_EXPORT_ROOT)")
    rationale_filter = rationale_filter_option(filter_json)
    with Session(state(ctx).engine()) as session:
        try:
            if rationale_filter is not None:
                records = records_for_filter(session, rationale_filter=rationale_filter)
            else:
                curated = get_set_by_name(session, name=set_name or "")
                assert curated.id is not None
                records = frozen_records(session, set_id=curated.id)
            if fmt in STEP_LABEL_FORMATS:
                report: ExportReport | StepLabelReport = export_step_labels(
                    session, records, fmt=fmt, path=out
                )
            else:
                report = export_records(records, kind=kind, fmt=fmt, path=out)
        except (LookupError, ValueError) as error:  # no such set, set not frozen, ExportError
            fail(str(error))
    typer.echo(report.summary())


def register(app: typer.Typer) -> None:
    """Add `import` (a group; `import` is a Python keyword, hence `import_app`) and `export` to the app."""
    app.add_typer(import_app, name="import")
    app.command("export")(export)
