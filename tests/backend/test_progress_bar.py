"""Progress bars off a terminal print a line every few seconds at most, not one per refresh."""

import io
import time

import pytest

from backend import progress_bar as module
from backend.progress_bar import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _lines(text: str) -> list[str]:
    """What a log file shows: every carriage return or newline starts a new line."""
    return [part for part in text.replace("\r", "\n").split("\n") if part.strip()]


def test_a_log_gets_a_line_every_few_seconds_not_one_per_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "LOG_SECONDS", 0.2)  # the rule, on a short clock
    log = io.StringIO()
    started = time.monotonic()
    with progress_bar(total=300, file=log, unit="row") as bar:
        for _ in range(300):  # ~0.6 s of work, refreshed on every row as a polling watcher does
            bar.update(1)
            bar.set_postfix_str("working", refresh=False)
            bar.refresh()
            time.sleep(0.002)
    elapsed = time.monotonic() - started
    lines = _lines(log.getvalue())
    assert len(lines) <= elapsed / 0.2 + 3  # one per interval, plus the first and the closing line
    assert "300/300" in lines[-1]


def test_a_terminal_keeps_its_live_bar() -> None:
    terminal = Terminal()
    with progress_bar(total=3, file=terminal) as bar:
        assert bar.mininterval == pytest.approx(0.1)  # tqdm's own default
    log_bar = progress_bar(total=3, file=io.StringIO())
    assert log_bar.mininterval == module.LOG_SECONDS and not log_bar.dynamic_ncols
    log_bar.close()
