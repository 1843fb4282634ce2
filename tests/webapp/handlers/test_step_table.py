"""The editable steps table: parsing, verdicts, add/remove/move."""

import gradio as gr
import pandas as pd
import pytest

from backend.student_formats import StepText
from webapp.handlers import step_table


def _table() -> pd.DataFrame:
    return step_table.frame([["Q1?", "one", "ok"], ["Q2?", "two", ""], ["", "three", "wrong"]])


def test_parse_steps_reads_sub_questions_text_and_verdicts() -> None:
    steps, verdicts = step_table.parse_steps(_table())
    assert steps == [StepText("Q1?", "one"), StepText("Q2?", "two"), StepText(None, "three")]
    assert verdicts == ["ok", None, "wrong"]


def test_blank_rows_are_dropped_and_bad_verdicts_named() -> None:
    table = step_table.frame([["", "", ""], ["Q?", "a", "OK"]])
    steps, verdicts = step_table.parse_steps(table)
    assert steps == [StepText("Q?", "a")] and verdicts == ["ok"]
    with pytest.raises(gr.Error, match="step 1"):
        step_table.parse_steps(step_table.frame([["Q?", "a", "fine"]]))


def test_add_remove_and_move_rows() -> None:
    added = step_table.add_step(_table(), 1)
    assert added.values.tolist()[1] == ["", "", ""]
    assert step_table.add_step(added, 0).values.tolist()[0] == ["", "", ""]  # blank rows survive edits
    removed = step_table.remove_step(_table(), 2)
    assert [row[1] for row in removed.values.tolist()] == ["one", "three"]
    moved = step_table.move_up(_table(), 3)
    assert [row[1] for row in moved.values.tolist()] == ["one", "three", "two"]
    assert step_table.move_down(_table(), 3).values.tolist() == _table().values.tolist()  # already last
    with pytest.raises(gr.Error, match="no step 7"):
        step_table.remove_step(_table(), 7)
