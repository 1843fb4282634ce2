"""Engine creation: SQLite in WAL mode with foreign keys on; the same code runs on PostgreSQL."""

import os
import stat
from contextlib import suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

# The database holds password hashes and session tokens: its folder and files are the owner's alone.
DATA_DIR_MODE = 0o700
DB_FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web server read while a job writes; busy_timeout makes concurrent writers wait
    # instead of failing at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _owner_only_database(db_path: Path) -> None:
    """Create the database file (and its folder) readable by this user only, before SQLite opens it.

    SQLite gives its WAL and shared-memory files the database file's permissions, so creating the file
    0600 covers them; an existing database made readable by others (older versions) is tightened.
    """
    db_path.parent.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
    # An existing database is opened as it is (a read-only one gets SQLite's own clear error later).
    with suppress(FileExistsError):
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DB_FILE_MODE))
    for path in [db_path, *(Path(f"{db_path}{suffix}") for suffix in SQLITE_SIDE_FILES)]:
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid == os.geteuid() and mode & ~DB_FILE_MODE:
            # Never adds a permission (a read-only file stays so); on a read-only mount SQLite reports
            # what matters, the write that fails.
            with suppress(OSError):
                path.chmod(mode & DB_FILE_MODE)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build an engine for `url`; creates the SQLite file's folder when needed."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        else:
            _owner_only_database(Path(url.split("///", 1)[1]))
        engine = create_engine(url, echo=echo, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


_engines: dict[str, Engine] = {}


def open_database(url: str) -> Engine:
    """The process-wide engine for `url`, migrated to the newest schema on first use."""
    from db.migrate import upgrade_to_head
    from db.search_index import ensure_question_search

    if url not in _engines:
        engine = make_engine(url)
        upgrade_to_head(engine)
        ensure_question_search(engine)  # Explore's text search index (outside Alembic: a virtual table)
        _engines[url] = engine
    return _engines[url]
