"""Database failures as one clear sentence for a person (web app and CLI), instead of a traceback.

describe_db_error(exc) names what went wrong (read-only file, full disk, busy, unreachable server, damaged
file) and what to do; it says that nothing was saved because every write here is one transaction.
"""

import errno
import sqlite3

from sqlalchemy.exc import DBAPIError

from backend.display.masking import mask_secrets

# SQLite primary result codes (https://sqlite.org/rescode.html); the extended code's low byte.
_SQLITE_BUSY, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT = 5, 8, 10, 11
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 13, 14, 26
# PostgreSQL SQLSTATEs.
_PG_DISK_FULL, _PG_READ_ONLY = "53100", "25006"

NOT_SAVED = "Nothing was saved; your change can be made again once this is fixed."


def _where(database: str | None) -> str:
    return f" ({database})" if database else ""


def _sqlite(error: sqlite3.Error, database: str | None) -> str | None:
    code = error.sqlite_errorcode & 0xFF if isinstance(error, sqlite3.DatabaseError) else None
    text = str(error).lower()
    at = _where(database)
    if code == _SQLITE_READONLY or "readonly database" in text:
        return (
            f"the database file is read-only{at}: make the file and its folder writable for the app's user."
        )
    if code == _SQLITE_FULL or "disk is full" in text:
        return f"the disk is full{at}: free space on the disk that holds the database, then try again."
    if code == _SQLITE_BUSY or "database is locked" in text:
        return f"the database is busy{at}: another process held its write lock too long; try again shortly."
    if code == _SQLITE_CANTOPEN or "unable to open" in text:
        return f"the database file cannot be opened{at}: check that its folder exists and is writable."
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return f"the database file is damaged or is not a database{at}: restore it from a backup."
    if code == _SQLITE_IOERR or "disk i/o error" in text:
        return f"the disk reported an input/output error{at} (a full or failing disk, or a removed drive)."
    return None


def _postgres(original: BaseException, database: str | None) -> str | None:
    # psycopg errors carry the server's SQLSTATE; connection failures have none.
    sqlstate = original.sqlstate if type(original).__module__.startswith("psycopg") else None  # type: ignore[attr-defined]
    text = str(original).lower()
    at = _where(database)
    if sqlstate == _PG_DISK_FULL or "no space left" in text:
        return f"the database server's disk is full{at}: free space on it, then try again."
    if sqlstate == _PG_READ_ONLY or "read-only transaction" in text:
        return (
            f"the database is read-only{at} (a standby or read-only role): point the app at a writable one."
        )
    if "connection refused" in text or "could not connect" in text or "connection failed" in text:
        return f"cannot reach the database server{at}: is it running, and is SOCRATIC_DATABASE_URL right?"
    return None


def describe_db_error(exc: BaseException, *, database: str | None = None) -> str:
    """One sentence for a person, naming the cause, then that nothing was saved."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(original, OSError) and original.errno == errno.ENOSPC:
        message: str | None = f"the disk is full{_where(database)}: free space, then try again."
    elif isinstance(original, OSError) and original.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        message = f"the database file or its folder is read-only{_where(database)}: {original.strerror}."
    elif isinstance(original, sqlite3.Error):
        message = _sqlite(original, database)
    else:
        message = _postgres(original, database)
    if message is None:
        first_line = (str(original).strip().splitlines() or [type(original).__name__])[0]
        message = f"the database refused the operation{_where(database)}: {first_line}"
    return mask_secrets(f"{message[0].upper()}{message[1:]} {NOT_SAVED}")  # a driver may quote the URL
