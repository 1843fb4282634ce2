"""Imports as jobs, so the web app can start one and watch its progress.

Job params: {"importer": "gsm8k" | "svamp" | "strategyqa" | "reasoning_gym" | "table" | "hf", ...} plus
that importer's keyword arguments, e.g. {"importer": "gsm8k", "path": "/data/test.jsonl", "split": "test"}
or {"importer": "table", "path": "x.csv", "columns": {"question": "q", "answer": "a"}}.
"""

from typing import Any

from sqlmodel import Session

from backend.importers.core import ImportReport, ProgressFn
from backend.importers.gsm8k import import_gsm8k
from backend.importers.hf import import_hf
from backend.importers.reasoning_gym import import_reasoning_gym
from backend.importers.strategyqa import import_strategyqa
from backend.importers.svamp import import_svamp
from backend.importers.table import ColumnMap, import_table
from backend.jobs.context import JobContext

IMPORTERS = ("gsm8k", "svamp", "strategyqa", "reasoning_gym", "table", "hf")


def run_importer(
    session: Session,
    params: dict[str, Any],
    *,
    show_progress: bool = False,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Call the importer `params["importer"]` names with the rest of `params` as its arguments."""
    args = dict(params)
    importer = args.pop("importer", None)
    common: dict[str, Any] = {"show_progress": show_progress, "on_progress": on_progress}
    try:
        if importer == "gsm8k":
            return import_gsm8k(session, args.pop("path"), **args, **common)
        if importer == "svamp":
            return import_svamp(session, args.pop("path"), **args, **common)
        if importer == "strategyqa":
            return import_strategyqa(session, args.pop("path"), **args, **common)
        if importer == "reasoning_gym":
            return import_reasoning_gym(session, args.pop("generator"), **args, **common)
        if importer == "table":
            columns = ColumnMap(**args.pop("columns", {}))
            return import_table(session, args.pop("path"), columns=columns, **args, **common)
        if importer == "hf":
            columns = ColumnMap(**args.pop("columns", {}))
            return import_hf(session, args.pop("name_or_path"), columns=columns, **args, **common)
    except (KeyError, TypeError) as error:
        # A missing or unknown argument in the job's params (KeyError: a required one was not given).
        raise ValueError(f"bad parameters for the {importer} importer: {error}") from None
    raise ValueError(f"unknown importer {importer!r}; expected one of {', '.join(IMPORTERS)}")


def run_import_job(ctx: JobContext) -> str:
    """The job handler: one transaction, with progress; a cancel while reading stores nothing."""

    def progress(done: int, total: int, message: str) -> None:
        ctx.progress(done, max(total, done), message)
        ctx.check_cancel()

    with Session(ctx.engine) as session:
        report = run_importer(session, ctx.params, on_progress=progress)
    ctx.progress(report.added, report.added, "done", force=True)
    return report.summary()
