"""StrategyQA from BIG-bench (`task.json`): `{"examples": [{"input", "target_scores", "target"}]}`.

The gold is the label scored 1 in `target_scores` ("Yes"/"No"); `target` is "Yes. <explanation>", and
the explanation is kept as the gold solution. The answer type is "yes_no".
"""

from pathlib import Path
from typing import Any

from sqlmodel import Session

from backend.checks.answers import normalize_answer
from backend.importers.core import (
    ImportReport,
    ParsedProblem,
    ProgressFn,
    Where,
    check_split,
    dataset_spec,
    text_field,
)
from backend.importers.pipeline import import_rows
from backend.importers.sources import json_array_items


def _scored_label(record: dict[str, Any], where: Where) -> str:
    scores = record.get("target_scores")
    if not isinstance(scores, dict) or not scores:
        raise where.fail(
            "target_scores", "missing" if scores is None else "expected an object like {'Yes': 1, 'No': 0}"
        )
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in scores.values()):
        raise where.fail("target_scores", "every score must be a number")
    label = str(max(scores, key=lambda key: scores[key]))
    if normalize_answer(label, "yes_no") is None:
        raise where.fail("target_scores", f"the best-scored label {label[:40]!r} is not Yes or No")
    return label


def parse_strategyqa_row(index: int, where: Where, record: Any, *, split: str) -> ParsedProblem:
    if not isinstance(record, dict):
        raise where.fail(None, f"expected a JSON object, got {type(record).__name__}")
    question = text_field(record, "input", where)
    assert question is not None
    label = _scored_label(record, where)
    gold = normalize_answer(label, "yes_no")
    target = text_field(record, "target", where, required=False) or ""
    stated = normalize_answer(target, "yes_no")
    if stated is not None and stated != gold:
        raise where.fail("target", f"says {stated!r} but target_scores say {gold!r}")
    # "Yes. College commencement ..." -> the explanation after the label.
    explanation = target.split(maxsplit=1)[1].strip() if stated is not None and " " in target else None
    return ParsedProblem(
        line=where.line,
        external_id=str(index),
        split=split,
        question=question,
        gold_answer_raw=label,
        gold_answer=gold,
        gold_solution=explanation or None,
    )


def import_strategyqa(
    session: Session,
    path: str | Path,
    *,
    split: str = "train",
    name: str = "strategyqa",
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import BIG-bench strategyqa task.json (2,290 yes/no questions, StrategyQA's train split)."""
    path = Path(path)
    split = check_split(split, path.name)
    spec = dataset_spec(
        name, source="strategyqa", answer_type="yes_no", description="StrategyQA (BIG-bench)", file=path.name
    )
    return import_rows(
        session, spec, json_array_items(path, key="examples"),
        lambda index, where, record: parse_strategyqa_row(index, where, record, split=split),
        file=path.name, show_progress=show_progress, on_progress=on_progress,
    )  # fmt: skip
