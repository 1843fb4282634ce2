"""The editable steps table: parsing, add/remove/move (ratings live in the rating panel, not here)."""

import gradio as gr
import pandas as pd
import pytest

from backend.student_formats import StepText
from webapp.handlers import step_table


def _table() -> pd.DataFrame:
    return step_table.frame([["Q1?", "one"], ["Q2?", "two"], ["", "three"]])


def test_parse_steps_reads_sub_questions_and_text() -> None:
    steps = step_table.parse_steps(_table())
    assert steps == [StepText("Q1?", "one"), StepText("Q2?", "two"), StepText(None, "three")]


def test_blank_rows_are_dropped_and_an_old_clients_verdict_column_ignored() -> None:
    old = {"headers": ["sub_question", "text", "verdict"], "data": [["", "", ""], ["Q?", "a", "ok"]]}
    assert step_table.parse_steps(old["data"]) == [StepText("Q?", "a")]
    assert step_table.parse_steps(step_table.frame([["", ""], [" Q? ", " a "]])) == [StepText("Q?", "a")]


def test_add_remove_and_move_rows() -> None:
    added = step_table.add_step(_table(), 1)
    assert added.values.tolist()[1] == ["", ""]
    assert step_table.add_step(added, 0).values.tolist()[0] == ["", ""]  # blank rows survive edits
    removed = step_table.remove_step(_table(), 2)
    assert [row[1] for row in removed.values.tolist()] == ["one", "three"]
    moved = step_table.move_up(_table(), 3)
    assert [row[1] for row in moved.values.tolist()] == ["one", "three", "two"]
    assert step_table.move_down(_table(), 3).values.tolist() == _table().values.tolist()  # already last
    with pytest.raises(gr.Error, match="no step 7"):
        step_table.remove_step(_table(), 7)
