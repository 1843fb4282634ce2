"""A trigram index over problem questions, so Explore's substring search does not scan every problem.

SQLite: an FTS5 table with the trigram tokenizer over `problem.question` (external content, kept in step
by triggers); its LIKE gives exactly the rows a plain `question LIKE '%x%'` gives, from the index.
PostgreSQL: a pg_trgm GIN index, which plain LIKE uses by itself. Either is optional: without it search
still works, by a scan.
"""

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

SQLITE_TABLE = "problem_search"

_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5("
    "question, content='problem', content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER {SQLITE_TABLE}_insert AFTER INSERT ON problem BEGIN
        INSERT INTO {SQLITE_TABLE}(rowid, question) VALUES (new.id, new.question);
    END""",
    f"""CREATE TRIGGER {SQLITE_TABLE}_delete AFTER DELETE ON problem BEGIN
        INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, question) VALUES ('delete', old.id, old.question);
    END""",
    f"""CREATE TRIGGER {SQLITE_TABLE}_update AFTER UPDATE OF question ON problem BEGIN
        INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, question) VALUES ('delete', old.id, old.question);
        INSERT INTO {SQLITE_TABLE}(rowid, question) VALUES (new.id, new.question);
    END""",
    f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}) VALUES ('rebuild')",  # index the problems already there
]


def has_question_search(connection: Connection) -> bool:
    """Whether this SQLite database has the trigram table (PostgreSQL needs no query change)."""
    if connection.dialect.name != "sqlite":
        return False
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SQLITE_TABLE,)
    ).first()
    return found is not None


def ensure_question_search(engine: Engine) -> bool:
    """Create the index when missing (a one-off rebuild on an existing database); True when present."""
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                if has_question_search(connection):
                    return True
                for statement in _SQLITE_DDL:
                    connection.exec_driver_sql(statement)
                return True
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                connection.exec_driver_sql(
                    "CREATE INDEX IF NOT EXISTS ix_problem_question_trgm ON problem "
                    "USING gin (question gin_trgm_ops)"
                )
                return True
    except DBAPIError:
        # SQLite without FTS5/trigram (< 3.34) or a PostgreSQL role that may not create extensions:
        # search falls back to a scan, which is correct, only slower.
        return False
    return False
