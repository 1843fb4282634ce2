"""Generation budgets read off a student's training data, so evaluation never cuts a student off before
the length it was trained to write (a fixed 96-token limit truncated many reference-length solutions).

Budget = the 99th percentile of the training targets' token lengths, plus a fifth, plus a few tokens; the
Socratic step cap is one more than the longest training decomposition (room for the end marker).
"""

import math
from collections.abc import Sequence
from typing import Any

from backend.student_formats import Dialogue, Example
from db.models import StudentKind

PERCENTILE = 0.99
MARGIN = 1.2
EXTRA_TOKENS = 8


def token_budget(lengths: Sequence[int]) -> int:
    """The 99th percentile of `lengths`, with a margin."""
    ordered = sorted(lengths)
    p99 = ordered[max(0, math.ceil(PERCENTILE * len(ordered)) - 1)]
    return int(p99 * MARGIN) + EXTRA_TOKENS


def _steps(dialogue: Dialogue) -> int:
    # Segments: the problem, then 4 per step (sub-question, "A{k}:", answer, "Q{k+1}:"), then the end marker.
    return (len(dialogue.segments) - 2) // 4


def generation_budget(
    tokenizer: Any, kind: StudentKind, examples: Sequence[Example], dialogues: Sequence[Dialogue] = ()
) -> dict[str, int]:
    """Evaluation defaults for a student of `kind` trained on these examples (keys of EvalConfig)."""
    if not examples:
        return {}
    lengths = [len(tokenizer(e.completion, add_special_tokens=False)["input_ids"]) for e in examples]
    if kind in (StudentKind.cot, StudentKind.answer_only, StudentKind.decompose_only):
        return {"max_tokens": token_budget(lengths)}
    budget: dict[str, int] = {}
    if dialogues:
        budget["max_steps"] = max(_steps(d) for d in dialogues) + 1
    if kind in (StudentKind.decomposer, StudentKind.unified):
        # The END example's completion is short; sub-questions are the others.
        budget["question_tokens"] = token_budget(lengths)
    if kind in (StudentKind.solver, StudentKind.unified):
        budget["answer_tokens"] = token_budget(lengths)
    return budget
