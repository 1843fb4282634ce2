"""A trigram index over problem questions, so Explore's substring search does not scan every problem.

SQLite: an FTS5 table with the trigram tokenizer over `problem.question` (external content). New problems
are indexed in one batch when a search next needs them (`catch_up`), not row by row: a per-row trigger
made a 100,000-problem import 30 s slower, the batch costs a third of that, once, at the first search.
A watermark row records how far the index reaches; triggers keep indexed rows right when a question is
edited or a problem deleted. The index gives exactly the rows `question LIKE '%x%'` gives.
PostgreSQL: a pg_trgm GIN index, which plain (I)LIKE uses by itself. Either is optional: without it,
search still works by a scan.
"""

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

SQLITE_TABLE = "problem_search"
_STATE = f"{SQLITE_TABLE}_state"  # one row: the highest problem id the index covers
_INDEXED = f"(SELECT indexed_through FROM {_STATE})"

_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5("
    "question, content='problem', content_rowid='id', tokenize='trigram')",
    f"CREATE TABLE {_STATE} (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_through INTEGER NOT NULL)",
    f"INSERT INTO {_STATE} VALUES (1, 0)",
    # Only rows the index already covers need upkeep; later ones arrive with the next catch_up.
    f"""CREATE TRIGGER {SQLITE_TABLE}_update AFTER UPDATE OF question ON problem
        WHEN old.id <= {_INDEXED} BEGIN
        INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, question) VALUES ('delete', old.id, old.question);
        INSERT INTO {SQLITE_TABLE}(rowid, question) VALUES (new.id, new.question);
    END""",
    f"""CREATE TRIGGER {SQLITE_TABLE}_delete AFTER DELETE ON problem WHEN old.id <= {_INDEXED} BEGIN
        INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, question) VALUES ('delete', old.id, old.question);
    END""",
    # SQLite may reuse the highest id after a delete: such a row is below the watermark, index it now.
    f"""CREATE TRIGGER {SQLITE_TABLE}_insert AFTER INSERT ON problem WHEN new.id <= {_INDEXED} BEGIN
        INSERT INTO {SQLITE_TABLE}(rowid, question) VALUES (new.id, new.question);
    END""",
]


def has_question_search(connection: Connection) -> bool:
    """Whether this SQLite database has the trigram table (PostgreSQL needs no query change)."""
    if connection.dialect.name != "sqlite":
        return False
    found = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", (SQLITE_TABLE, _STATE)
    ).scalar_one()
    return found == 2


def _drop_sqlite(connection: Connection) -> None:
    """Remove a partial or older layout (a first version indexed every insert by trigger)."""
    for trigger in ("insert", "update", "delete"):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {SQLITE_TABLE}_{trigger}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_STATE}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")


def pending(connection: Connection) -> int:
    """How many problem ids lie beyond the index's watermark (0: the index is complete)."""
    newest = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM problem").scalar_one()
    return max(0, int(newest) - indexed_through(connection))


def indexed_through(connection: Connection) -> int:
    return int(connection.exec_driver_sql(f"SELECT indexed_through FROM {_STATE}").scalar_one())


def catch_up(engine: Engine, *, wait_ms: int = 30_000) -> bool:
    """Index the problems added since the last catch-up, in one transaction; False when the database
    cannot be written within `wait_ms` (read-only, busy), in which case searches scan the rest."""
    try:
        # One engine.begin() block: no manual commit/begin juggling on a pooled connection (that raced
        # with SQLAlchemy's autobegin and left a worker unable to open the database).
        with engine.begin() as connection:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_ms)}")
            try:
                connection.exec_driver_sql(
                    f"INSERT INTO {SQLITE_TABLE}(rowid, question) SELECT id, question FROM problem "
                    f"WHERE id > {_INDEXED} ORDER BY id"
                )
                connection.exec_driver_sql(
                    f"UPDATE {_STATE} SET indexed_through = (SELECT coalesce(max(id), 0) FROM problem)"
                )
            finally:  # back to the app's usual patience before the connection returns to the pool
                connection.exec_driver_sql("PRAGMA busy_timeout=30000")
    except DBAPIError:
        return False
    return True


def ensure_question_search(engine: Engine) -> bool:
    """Create the index when missing and bring it up to date; True when present."""
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                if not has_question_search(connection):
                    _drop_sqlite(connection)
                    for statement in _SQLITE_DDL:
                        connection.exec_driver_sql(statement)
            elif engine.dialect.name == "postgresql":
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                connection.exec_driver_sql(
                    "CREATE INDEX IF NOT EXISTS ix_problem_question_trgm ON problem "
                    "USING gin (question gin_trgm_ops)"
                )
                return True
            else:
                return False
    except DBAPIError:
        # SQLite without FTS5/trigram (< 3.34) or a PostgreSQL role that may not create extensions:
        # search falls back to a scan, which is correct, only slower.
        return False
    return catch_up(engine)
