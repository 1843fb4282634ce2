"""Paths that users type (export files, model folders) are confined below configured roots."""

from collections.abc import Sequence
from pathlib import Path


class PathNotAllowed(ValueError):
    """A user-given path points outside every allowed root."""


def confined_path(user_path: str, *, root: Path) -> Path:
    """`user_path` resolved below `root` (relative to it unless absolute); `..` and links out are refused."""
    text = user_path.strip()
    if not text:
        raise PathNotAllowed("the path is empty")
    if "\x00" in text:
        raise PathNotAllowed("the path contains a NUL byte")
    base = root.expanduser().resolve()
    candidate = Path(text).expanduser()
    resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    if resolved != base and base not in resolved.parents:
        raise PathNotAllowed(f"{text!r} is outside the allowed folder {base}")
    return resolved


def confined_to_any(user_path: str, *, roots: Sequence[Path]) -> Path:
    """The first root under which `user_path` stays; for model folders, which may live in several roots."""
    for root in roots:
        try:
            return confined_path(user_path, root=root)
        except PathNotAllowed:
            continue
    allowed = ", ".join(str(root) for root in roots) or "(none configured)"
    raise PathNotAllowed(f"{user_path!r} is outside the allowed folders: {allowed}")


def is_local_path(model: str) -> bool:
    """A model reference that names a folder on this machine (not a hub id, served name or alias)."""
    text = model.strip()
    return text.startswith(("/", ".", "~")) or Path(text).expanduser().exists()


def confined_model(model: str, *, roots: Sequence[Path]) -> str:
    """`model` unchanged unless it is a local folder, which must lie below one of `roots`."""
    return str(confined_to_any(model, roots=roots)) if is_local_path(model) else model.strip()
