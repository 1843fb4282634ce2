"""Files written for one download (step-through's Markdown and HTML export): size-capped, kept in one
folder under the app's data, and deleted soon after.

The page hands the file to Gradio, which copies it into its own cache as it answers, so the file is needed
only for that moment: each new export first deletes the folder's files older than MAX_AGE_S and all but
the newest KEEP - 1, so the folder never holds more than KEEP files of at most MAX_BYTES each.
"""

import os
import secrets
import time
from pathlib import Path

MAX_BYTES = 2_000_000  # a long trace is tens of KB; the cap keeps a crafted one from filling the disk
KEEP = 20  # a class exporting at once still gets every file before it is pruned
MAX_AGE_S = 600.0


class ExportTooLarge(ValueError):
    """The text is over MAX_BYTES; nothing was written."""


def prune(folder: Path, *, keep: int = KEEP, max_age_s: float = MAX_AGE_S) -> None:
    """Delete the folder's files older than `max_age_s`, then the oldest beyond `keep`."""
    now = time.time()
    files = []
    for path in folder.iterdir():
        try:
            files.append((path.stat().st_mtime, path))
        except FileNotFoundError:  # another request pruned it meanwhile
            continue
    files.sort(reverse=True)
    for index, (modified, path) in enumerate(files):
        if index >= keep or now - modified > max_age_s:
            path.unlink(missing_ok=True)


def write_download(folder: Path, text: str, *, stem: str, suffix: str) -> Path:
    """`text` as a new file `stem-<random>.<suffix>` in `folder` (owner-only), after pruning; ExportTooLarge
    over MAX_BYTES. The random part keeps two users' exports apart."""
    data = text.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise ExportTooLarge(
            f"the export would be {len(data) / 1e6:.1f} MB; at most {MAX_BYTES / 1e6:g} MB can be exported"
        )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    prune(folder, keep=KEEP - 1)
    path = folder / f"{stem}-{secrets.token_hex(4)}.{suffix}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path
