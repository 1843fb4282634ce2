"""Download files: capped in size, owner-only, and pruned (by age and count) as new ones are written."""

import os
import stat
import time
from pathlib import Path

import pytest

from backend.files import download_files
from backend.files.download_files import ExportTooLarge, write_download


def test_a_file_is_written_owner_only_with_a_distinct_name(tmp_path: Path) -> None:
    first = write_download(tmp_path / "d", "# trace", stem="trace", suffix="md")
    second = write_download(tmp_path / "d", "# trace", stem="trace", suffix="md")
    assert first != second and first.read_text() == "# trace" and first.name.startswith("trace-")
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700


def test_text_over_the_cap_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ExportTooLarge, match="at most 2 MB"):
        write_download(tmp_path, "x" * (download_files.MAX_BYTES + 1), stem="trace", suffix="md")
    assert list(tmp_path.iterdir()) == []


def test_the_folder_keeps_only_recent_files(tmp_path: Path) -> None:
    old = write_download(tmp_path, "old", stem="trace", suffix="md")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    written = [write_download(tmp_path, str(n), stem="trace", suffix="md") for n in range(30)]
    kept = sorted(tmp_path.iterdir())
    assert len(kept) == download_files.KEEP and not old.exists()
    assert written[-1] in kept  # the newest is never pruned
