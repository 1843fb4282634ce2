"""Reading import files into (line number, record) pairs, with errors that name file and line.

Handles what real files bring: a UTF-8 byte-order mark, Windows line ends, invalid UTF-8 bytes (named
by line), empty files, blank JSONL lines, and JSON arrays whose items are located by line.
"""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backend.importers.core import MAX_FIELD_CHARS, ImportFailure

Record = dict[str, Any]


def read_text(path: Path) -> str:
    """The whole file as text; refuses missing, empty and non-UTF-8 files with the offending line."""
    if not path.is_file():
        raise ImportFailure(path.name, None, None, f"no such file: {path}")
    data = path.read_bytes()
    if not data.strip():
        raise ImportFailure(path.name, None, None, "the file is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        raise ImportFailure(
            path.name, line, None, f"not valid UTF-8 (byte 0x{byte}); save the file as UTF-8"
        ) from None


def jsonl_records(path: Path) -> Iterator[tuple[int, Record]]:
    """Each non-blank line as a JSON object."""
    # Split on "\n" only: str.splitlines would also split on U+2028 and friends, which JSON allows in strings.
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ImportFailure(
                path.name, number, None, f"invalid JSON: {error.msg} (column {error.colno})"
            ) from None
        except (ValueError, RecursionError) as error:  # a 5,000-digit number, or [[[[... nested too deep
            raise ImportFailure(path.name, number, None, f"invalid JSON: {error}") from None
        if not isinstance(record, dict):
            raise ImportFailure(
                path.name, number, None, f"expected a JSON object, got {type(record).__name__}"
            )
        yield number, record


def csv_records(path: Path) -> Iterator[tuple[int, Record]]:
    """Each CSV row as a dict keyed by the header row; the line is where the row starts."""
    reader = csv.DictReader(read_text(path).splitlines(keepends=True), restkey="\x00extra")
    if not reader.fieldnames:
        raise ImportFailure(path.name, 1, None, "no header row")
    line = reader.line_num + 1
    try:
        for row in reader:
            if "\x00extra" in row:
                raise ImportFailure(
                    path.name, line, None, f"more cells than the {len(reader.fieldnames)} headers"
                )
            yield line, row
            line = reader.line_num + 1
    except csv.Error as error:
        problem = str(error)
        if "field larger than field limit" in problem:
            problem = (
                f"a cell is longer than the csv module's limit (fields over {MAX_FIELD_CHARS:,} are refused)"
            )
        raise ImportFailure(path.name, reader.line_num, None, problem) from None


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _decode_at(decoder: json.JSONDecoder, text: str, position: int, name: str) -> tuple[Any, int]:
    try:
        return decoder.raw_decode(text, position)
    except json.JSONDecodeError as error:
        raise ImportFailure(
            name, error.lineno, None, f"invalid JSON: {error.msg} (column {error.colno})"
        ) from None
    except (ValueError, RecursionError) as error:  # a 5,000-digit number, or [[[[... nested too deep
        line = text.count("\n", 0, position) + 1
        raise ImportFailure(name, line, None, f"invalid JSON: {error}") from None


def _array_items(decoder: json.JSONDecoder, text: str, position: int, name: str) -> Iterator[tuple[int, Any]]:
    if text[position : position + 1] != "[":
        raise ImportFailure(name, text.count("\n", 0, position) + 1, None, "expected a JSON array")
    position = _skip_space(text, position + 1)
    if text[position : position + 1] == "]":
        return
    while True:
        line = text.count("\n", 0, position) + 1
        item, position = _decode_at(decoder, text, position, name)
        yield line, item
        position = _skip_space(text, position)
        separator = text[position : position + 1]
        if separator == "]":
            return
        if separator != ",":
            raise ImportFailure(
                name, text.count("\n", 0, position) + 1, None, "invalid JSON: expected ',' or ']'"
            )
        position = _skip_space(text, position + 1)


def json_array_items(path: Path, *, key: str | None = None) -> list[tuple[int, Any]]:
    """The items of a JSON array (the whole file, or the array under top-level `key`), each with its line.

    The file is first parsed whole, so any syntax error is reported (with its line) before any item.
    """
    text = read_text(path)
    decoder = json.JSONDecoder()
    document, end = _decode_at(decoder, text, _skip_space(text, 0), path.name)
    if _skip_space(text, end) < len(text):
        line = text.count("\n", 0, _skip_space(text, end)) + 1
        raise ImportFailure(path.name, line, None, "invalid JSON: extra data after the document")
    if key is None:
        return list(_array_items(decoder, text, _skip_space(text, 0), path.name))
    if not isinstance(document, dict) or not isinstance(document.get(key), list):
        raise ImportFailure(path.name, None, key, f"expected a JSON object with a {key!r} array")
    # Walk the top-level object to where `key`'s array starts, so each item keeps its true line number.
    position = _skip_space(text, _skip_space(text, 0) + 1)
    while True:
        name, position = _decode_at(decoder, text, position, path.name)
        position = _skip_space(text, _skip_space(text, position) + 1)  # past ":"
        if name == key:
            return list(_array_items(decoder, text, position, path.name))
        _, position = _decode_at(decoder, text, position, path.name)
        position = _skip_space(text, _skip_space(text, position) + 1)  # past ","
