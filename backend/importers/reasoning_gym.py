"""reasoning-gym generators by name, size and seed (`reasoning_gym.create_dataset`), fully offline.

Each item is {"question", "answer", "metadata"}. For gsm_symbolic, `metadata["answer_cot"]` is a
GSM8K-style step-per-line solution ending in "#### answer": it becomes the reference rationale (plain
CoT steps, no sub-questions). Other generators keep what they have in the problem's meta.
"""

import json
import re
from functools import partial
from typing import Any

from sqlmodel import Session

from backend.importers.core import (
    ImportFailure,
    ImportReport,
    ParsedProblem,
    ProgressFn,
    Where,
    check_split,
    dataset_spec,
    gold_answer,
    parse_solution,
    text_field,
)
from backend.importers.pipeline import import_rows

MAX_SIZE = 1_000_000
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _json_safe(value: Any) -> Any:
    """Generator metadata may hold tuples, sets or objects: keep a JSON-safe copy."""
    return json.loads(json.dumps(value, default=str))


def generate_items(generator: str, *, size: int, seed: int) -> list[dict[str, Any]]:
    label = f"reasoning-gym {generator}"
    if not 1 <= size <= MAX_SIZE:
        raise ImportFailure(label, None, "size", f"size must be between 1 and {MAX_SIZE:,}, got {size}")
    import reasoning_gym  # heavy import (many generators): only when generating

    try:
        return list(reasoning_gym.create_dataset(generator, size=size, seed=seed))
    except (KeyError, ValueError, TypeError) as error:
        raise ImportFailure(label, None, "name", f"cannot create {generator!r}: {error}") from None


def parse_item(
    index: int, where: Where, item: Any, *, seed: int, split: str, answer_type: str
) -> ParsedProblem:
    if not isinstance(item, dict):
        raise where.fail(None, f"expected an item dict, got {type(item).__name__}")
    question = text_field(item, "question", where)
    raw_answer = text_field(item, "answer", where, numbers_ok=True)
    assert question is not None and raw_answer is not None
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    solution = metadata.get("answer_cot") if isinstance(metadata.get("answer_cot"), str) else None
    steps, final = parse_solution(solution) if solution else ([], None)
    gold = gold_answer(raw_answer, answer_type, where, "answer")
    return ParsedProblem(
        line=where.line,
        external_id=f"{seed}-{index}",
        split=split,
        question=question,
        gold_answer_raw=raw_answer,
        gold_answer=gold,
        gold_solution=solution,
        steps=steps,
        solution_answer=gold_answer(final, answer_type, where, "answer_cot") if final else None,
        meta=_json_safe({key: value for key, value in metadata.items() if key != "answer_cot"}),
    )


def import_reasoning_gym(
    session: Session,
    generator: str,
    *,
    size: int,
    seed: int = 42,
    split: str = "train",
    name: str | None = None,
    show_progress: bool = True,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Generate `size` items of `generator` with `seed` and import them (ids "seed-index": idempotent)."""
    label = f"reasoning-gym {generator}"
    split = check_split(split, label)
    items = generate_items(generator, size=size, seed=seed)
    # Numeric when every answer is a plain number (gsm_symbolic, basic_arithmetic); otherwise exact text.
    numeric = all(_PLAIN_NUMBER.fullmatch(str(item.get("answer", "")).strip()) for item in items)
    answer_type = "numeric" if numeric else "text"
    spec = dataset_spec(
        name or f"reasoning_gym-{generator}",
        source="reasoning_gym",
        answer_type=answer_type,
        description=f"reasoning-gym {generator} (generated offline)",
        file=label,
    )
    return import_rows(
        session, spec, ((index + 1, item) for index, item in enumerate(items)),
        partial(parse_item, seed=seed, split=split, answer_type=answer_type),
        file=label, show_progress=show_progress, on_progress=on_progress, total=len(items),
    )  # fmt: skip
