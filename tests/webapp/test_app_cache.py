"""Gradio's copies of exported files (Curate's and Step through's downloads) do not pile up."""

from pathlib import Path

from sqlalchemy.engine import Engine

from tests.webapp.conftest import make_settings
from webapp.app import build_app


def test_gradio_deletes_its_copies_of_exported_files(engine: Engine, tmp_path: Path) -> None:
    """Without delete_cache Gradio keeps every copy it served until the server stops (issue 26)."""
    blocks = build_app(engine, make_settings(tmp_path / "home", auth=True))
    assert blocks.delete_cache is not None
    every, age = blocks.delete_cache
    assert 0 < every <= age <= 3_600  # swept at least as often as copies age, none kept past an hour
