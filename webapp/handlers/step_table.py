"""The editable steps table (sub_question, text): parsing it, and add/remove/move of rows.

Step ratings are not typed here: the rating panel (annotate_ratings) holds them."""

import math
from typing import Any

import pandas as pd

from backend.access.limits import MAX_STEP_CHARS, MAX_STEPS, InputRefused, check_count, check_length
from backend.student_formats import StepText
from db.models import Role
from webapp import strings
from webapp.context import user_error
from webapp.roles import needs

HEADERS = strings.Annotate.STEP_HEADERS


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _rows(table: Any, *, keep_blank: bool = False) -> list[list[str]]:
    """Rows as strings, one per column (extra columns, e.g. an old client's verdict, are ignored);
    wholly empty rows (a line added and left blank) are dropped unless kept."""
    if table is None:
        return []
    values = table.values.tolist() if isinstance(table, pd.DataFrame) else list(table)
    rows = []
    try:  # the table comes from the browser: bounded before anything reads it (backend.access.limits)
        check_count("steps", len(values), MAX_STEPS)
        for number, row in enumerate(values, start=1):
            cells = [_cell(v) for v in list(row)[: len(HEADERS)]]
            cells += [""] * (len(HEADERS) - len(cells))
            for header, cell in zip(HEADERS, cells, strict=True):
                check_length(f"the {header} of step {number}", cell, MAX_STEP_CHARS)
            if keep_blank or any(cells):
                rows.append(cells)
    except InputRefused as error:
        raise user_error(str(error)) from error
    return rows


def frame(rows: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=HEADERS)


def steps_frame(steps: list[StepText]) -> pd.DataFrame:
    return frame([[step.sub_question or "", step.text] for step in steps])


def parse_steps(table: Any) -> list[StepText]:
    """The steps as typed in the table (wholly blank rows dropped)."""
    return [StepText(sub_question=q or None, text=text) for q, text in _rows(table)]


def _position(rows: list[list[str]], number: Any) -> int:
    """The 0-based row for a 1-based step number typed by the user."""
    value = int(number or 0)
    if not 1 <= value <= len(rows):
        raise user_error(strings.Annotate.BAD_STEP_NUMBER.format(number=value, count=len(rows)))
    return value - 1


@needs(Role.viewer)
def add_step(table: Any, after: Any) -> pd.DataFrame:
    """A blank step after step `after` (0 puts it first)."""
    rows = _rows(table, keep_blank=True)
    position = int(after or 0)
    if not 0 <= position <= len(rows):
        raise user_error(strings.Annotate.BAD_STEP_NUMBER.format(number=position, count=len(rows)))
    rows.insert(position, [""] * len(HEADERS))
    return frame(rows)


@needs(Role.viewer)
def remove_step(table: Any, number: Any) -> pd.DataFrame:
    rows = _rows(table, keep_blank=True)
    del rows[_position(rows, number)]
    return frame(rows)


def move_step(table: Any, number: Any, delta: int) -> pd.DataFrame:
    """Swap step `number` with its neighbour above (-1) or below (+1); at an end nothing moves."""
    rows = _rows(table, keep_blank=True)
    position = _position(rows, number)
    target = position + delta
    if 0 <= target < len(rows):
        rows[position], rows[target] = rows[target], rows[position]
    return frame(rows)


@needs(Role.viewer)
def move_up(table: Any, number: Any) -> pd.DataFrame:
    return move_step(table, number, -1)


@needs(Role.viewer)
def move_down(table: Any, number: Any) -> pd.DataFrame:
    return move_step(table, number, 1)
