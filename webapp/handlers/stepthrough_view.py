"""What the step-through page shows of a session: the trace table (with each step's checks), the live
step as it streams, and the presenter view; in reveal mode every sub-question and answer stays hidden
until the teacher reveals it (one item at a time: sub-question 1, answer 1, sub-question 2, ...).

All text from models and users is escaped here (html.escape) before it reaches an HTML component.
"""

import html
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from backend.access.limits import (
    MAX_CALCULATOR_RECORDS,
    MAX_MODEL_SPEC_CHARS,
    MAX_QUESTION_CHARS,
    MAX_STEP_CHARS,
    MAX_STEPS,
    check_count,
    check_length,
)
from backend.checks.step_checks import step_check
from backend.evaluation import stepthrough
from backend.evaluation.stepthrough import StepSession
from webapp import strings

S = strings.StepThrough
CURSOR = "▌"


@dataclass(frozen=True)
class Live:
    """The text of the step being generated: part is "question" or "answer"."""

    part: str
    text: str


def _hidden(reveal_mode: bool, revealed: int, item: int) -> bool:
    """Item 2k is sub-question k+1, item 2k+1 its answer; the first `revealed` items show."""
    return reveal_mode and item >= revealed


def revealable(state: StepSession) -> int:
    """How many items (sub-questions and answers) exist to reveal."""
    return sum(1 + (pair.answer is not None) for pair in state.pairs)


def shown_items(revealed: Any, state: StepSession) -> int:
    """The browser's count of revealed items, clamped to 0..revealable(state); one that is no number
    (or Python's int refuses, like a 5,000-digit string or infinity) is refused."""
    try:
        number = int(revealed or 0)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError("the step-through state is not valid; press Start again") from error
    return max(0, min(number, revealable(state)))


def _check_spec(label: str, spec: dict[str, Any]) -> None:
    """A model spec held by the browser, bounded as JSON before model_ref reads it."""
    try:
        text = json.dumps(spec)
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError("the step-through state is not valid; press Start again") from error
    check_length(label, text, MAX_MODEL_SPEC_CHARS)


def check_state(state: StepSession) -> StepSession:
    """The browser's copy of a session, bounded before the calculator or a page reads it: the question,
    the model specs, each sub-question and answer, the calculator's records (InputRefused, a ValueError,
    names the part)."""
    check_length("the question", state.question, MAX_QUESTION_CHARS)
    _check_spec("the decomposer model spec", state.decomposer)
    _check_spec("the solver model spec", state.solver)
    check_count("steps in the trace", len(state.pairs), MAX_STEPS)
    check_count("reference values", len(state.reference_values), MAX_STEPS)
    for value in state.reference_values:
        check_length("a reference value", value, MAX_STEP_CHARS)
    for number, pair in enumerate(state.pairs, start=1):
        check_length(f"sub-question {number}", pair.sub_question, MAX_STEP_CHARS)
        check_length(f"answer {number}", pair.answer or "", MAX_STEP_CHARS)
        check_count(f"calculator records of step {number}", len(pair.calculator), MAX_CALCULATOR_RECORDS)
        for record in pair.calculator:
            if not {"expression", "claimed", "computed"} <= record.keys():
                raise ValueError("the step-through state is not valid; press Start again")
            for key in ("expression", "claimed", "computed"):
                check_length(f"a calculator record of step {number}", str(record[key]), MAX_STEP_CHARS)
    return state


def trace_frame(
    state: StepSession, *, reveal_mode: bool, revealed: int, live: Live | None = None
) -> pd.DataFrame:
    rows = []
    for index, pair in enumerate(state.pairs):
        question = S.HIDDEN_QUESTION if _hidden(reveal_mode, revealed, 2 * index) else pair.sub_question
        answer, check = pair.answer or "", ""
        if pair.answer is not None and _hidden(reveal_mode, revealed, 2 * index + 1):
            answer = S.HIDDEN
        elif pair.answer is not None:
            check = step_check(pair.answer, pair.calculator, state.reference_values)
        rows.append([question, answer, check])
    if live is not None and not reveal_mode:
        if live.part == "question":
            rows.append([live.text + CURSOR, "", ""])
        elif rows:
            rows[-1][1] = live.text + CURSOR
    return pd.DataFrame(rows, columns=S.TRACE_HEADERS)


def apply_edits(state: StepSession, table: Any) -> StepSession:
    """Take the user's edits from the table; hidden cells and empty answer cells keep their stored value.
    A table over the limits is an InputRefused (a ValueError)."""
    if table is None:
        return state
    rows = table.values.tolist() if isinstance(table, pd.DataFrame) else list(table)
    check_count("steps in the trace", len(rows), MAX_STEPS)
    edited: list[tuple[str, str | None]] = []
    for index, row in enumerate(rows):
        stored = state.pairs[index] if index < len(state.pairs) else None
        sub_question = str(row[0] if row[0] is not None else "").removesuffix(CURSOR)
        check_length(f"sub-question {index + 1}", sub_question, MAX_STEP_CHARS)
        if sub_question == S.HIDDEN_QUESTION:
            sub_question = stored.sub_question if stored else ""
        typed = str(row[1]) if len(row) > 1 and row[1] not in (None, "") else None
        check_length(f"answer {index + 1}", typed or "", MAX_STEP_CHARS)
        stored_answer = stored.answer if stored else None
        edited.append((sub_question, stored_answer if typed in (None, S.HIDDEN) else typed))
    return stepthrough.edit_pairs(state, edited)


def live_html(state: StepSession, *, reveal_mode: bool, live: Live | None) -> str:
    """The step being written, as it streams (in reveal mode only how far it has got)."""
    if live is None:
        return ""
    label = S.LIVE_QUESTION if live.part == "question" else S.LIVE_ANSWER
    if reveal_mode:
        return f"<div class='step-live'><b>{label}</b> {S.LIVE_HIDDEN.format(chars=len(live.text))}</div>"
    return f"<div class='step-live'><b>{label}</b> {html.escape(live.text)}{CURSOR}</div>"


def presenter_html(state: StepSession, *, reveal_mode: bool, revealed: int, live: Live | None = None) -> str:
    """Large type for a projector: the problem, the steps so far (the newest one largest)."""
    items = []
    for index, pair in enumerate(state.pairs):
        question = S.HIDDEN_QUESTION if _hidden(reveal_mode, revealed, 2 * index) else pair.sub_question
        answer = pair.answer or ""
        if pair.answer is not None and _hidden(reveal_mode, revealed, 2 * index + 1):
            answer = S.HIDDEN
        newest = " class='newest'" if index == len(state.pairs) - 1 else ""
        items.append(
            f"<li{newest}><p class='q'>{html.escape(question)}</p><p class='a'>{html.escape(answer)}</p></li>"
        )
    if live is not None and live.part == "question" and not reveal_mode:
        items.append(f"<li class='newest'><p class='q'>{html.escape(live.text)}{CURSOR}</p></li>")
    final = stepthrough.final_answer(state) if state.finished else None
    ending = f"<p class='final'>{S.FINAL}: {html.escape(final)}</p>" if final else ""
    return (
        f"<div class='presenter'><p class='problem'>{html.escape(state.question)}</p>"
        f"<ol>{''.join(items)}</ol>{ending}</div>"
    )
