"""Step-through's export: written to one folder under the app's data (not /tmp), capped in size, and the
folder pruned as exports are made (5 exports of a huge trace used to add 200 MB under /tmp for good)."""

from pathlib import Path

import gradio as gr
import pytest

from backend.evaluation.stepthrough import Pair, StepSession
from backend.files import download_files
from tests.webapp.conftest import as_user
from webapp.context import AppContext
from webapp.handlers.stepthrough import EXPORT_FOLDER, StepThroughHandlers

MODEL = {"backend": "transformers", "model": "default"}


def _state(answer: str = "15") -> dict[str, object]:
    state = StepSession("Tom has 3 boxes of 5 pens.", MODEL, MODEL, pairs=[Pair("How many?", answer)])
    return state.to_json()


def test_exports_go_to_one_pruned_folder_under_the_app_data(app: AppContext) -> None:
    handlers = StepThroughHandlers(app)
    folder = app.settings.resolved_export_root / EXPORT_FOLDER
    paths = [Path(handlers.export_html(_state(), None, as_user(None))["value"]) for _ in range(25)]
    paths.append(Path(handlers.export_markdown(_state(), None, as_user(None))["value"]))
    assert all(path.parent == folder for path in paths)
    assert paths[-1].suffix == ".md" and "How many?" in paths[-1].read_text()
    assert len(list(folder.iterdir())) == download_files.KEEP


def test_an_export_over_the_size_cap_is_refused(app: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download_files, "MAX_BYTES", 1_000)
    with pytest.raises(gr.Error, match=r"at most 0.001 MB can be exported"):
        StepThroughHandlers(app).export_markdown(_state("7 " * 600), None, as_user(None))
    assert not (app.settings.resolved_export_root / EXPORT_FOLDER).exists() or not any(
        (app.settings.resolved_export_root / EXPORT_FOLDER).iterdir()
    )
