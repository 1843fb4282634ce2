"""What a failed job tells the people who watch it: one line, without traceback or server paths.

The job's row (`Job.error`, shown to every viewer and by the CLI) gets `one_line(error)`; the traceback
goes to the job's log file, which only admins read in the page (webapp.handlers.jobs). `for_viewers`
does the same to text stored before (rows that still hold a traceback) and to log tails.
"""

import re

from backend.display.masking import mask_secrets

MAX_CHARS = 300
# An absolute path of two parts or more, not inside a URL (no word, dot, colon or slash right before it):
# it becomes ".../last-part", which still says which file without telling where the server keeps it.
_PATH = re.compile(r"(?<![\w.:/~])/(?:[^\s/'\"(),:;]+/)+([^\s/'\"(),:;]*)")


def hide_paths(text: str) -> str:
    return _PATH.sub(lambda match: f".../{match.group(1)}", text)


def _short(text: str) -> str:
    line = hide_paths(mask_secrets(" ".join(text.split())))
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 3] + "..."


def one_line(error: BaseException) -> str:
    """`Type: message` (the message's first line), paths hidden and at most MAX_CHARS."""
    message = str(error).strip().splitlines()
    return _short(f"{type(error).__name__}: {message[0]}" if message else type(error).__name__)


def for_viewers(stored: str) -> str:
    """A stored error as one line: a traceback's last line (the exception), else the first line."""
    lines = [line for line in stored.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].startswith("Traceback (most recent call last)"):
        exception = [line for line in lines if not line.startswith((" ", "\t", "Traceback"))]
        return _short(exception[0] if exception else lines[-1])
    return _short(lines[0])
