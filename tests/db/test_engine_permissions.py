"""The SQLite database (password hashes, session tokens) is created readable by its owner only."""

import os
import stat
from pathlib import Path

from sqlalchemy import text

from db.engine import make_engine
from db.migrate import upgrade_to_head


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_database_and_its_wal_are_owner_only(tmp_path: Path):
    previous = os.umask(0o022)  # the usual umask, under which files were created 0644
    try:
        data = tmp_path / "home"
        engine = make_engine(f"sqlite:///{data / 'studio.db'}")
        upgrade_to_head(engine)
        with engine.connect() as connection:  # keep a connection open: the WAL and shm files exist now
            connection.execute(text("SELECT 1"))
            assert _mode(data) == 0o700
            for name in ("studio.db", "studio.db-wal", "studio.db-shm"):
                assert (data / name).exists(), name
                assert _mode(data / name) == 0o600, name
        engine.dispose()
    finally:
        os.umask(previous)


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path):
    database = tmp_path / "studio.db"
    upgrade_to_head(make_engine(f"sqlite:///{database}"))
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}")
    assert _mode(database) == 0o600


def test_permissions_are_never_added(tmp_path: Path):
    database = tmp_path / "studio.db"
    upgrade_to_head(make_engine(f"sqlite:///{database}"))
    database.chmod(0o444)
    make_engine(f"sqlite:///{database}")
    assert _mode(database) == 0o400  # read-only stays read-only (SQLite then says so clearly)
