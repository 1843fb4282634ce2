"""Progress bars that suit where they print: live on a terminal, one line every few seconds in a log.

tqdm redraws with a carriage return; a CI log or a `nohup` file keeps every redraw as a line of its own,
so a bar refreshed each second (or each row) wrote hundreds of lines for a short run. Off a terminal,
`progress_bar` redraws at most every LOG_SECONDS (and once at the end, when the bar closes).
"""

import sys
import time
from typing import IO, Any

from tqdm import tqdm

LOG_SECONDS = 5.0


def interactive(stream: IO[str] | None = None) -> bool:
    """Whether the bar's stream (stderr by default) is a terminal."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ThrottledBar(tqdm):  # type: ignore[type-arg]
    """tqdm whose explicit `refresh()` also respects `mininterval` (tqdm's own always redraws); callers that
    poll a job and refresh the bar each second stay quiet off a terminal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._last_refresh = float("-inf")
        super().__init__(*args, **kwargs)

    def refresh(self, nolock: bool = False, lock_args: Any = None) -> None:
        now = time.monotonic()
        if now - self._last_refresh < self.mininterval:
            return
        self._last_refresh = now
        super().refresh(nolock=nolock, lock_args=lock_args)


def progress_bar(*args: Any, **options: Any) -> ThrottledBar:
    """A tqdm bar: as usual on a terminal; elsewhere a fixed width and at most one line every LOG_SECONDS."""
    if not interactive(options.get("file")):
        options.setdefault("mininterval", LOG_SECONDS)
        options["dynamic_ncols"] = False
    return ThrottledBar(*args, **options)
