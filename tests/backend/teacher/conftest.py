"""Teacher endpoints configured the way an operator does it: SOCRATIC_TEACHER_ENDPOINTS in the environment."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from db.settings import get_settings

Configure = Callable[[list[dict[str, Any]]], None]


@pytest.fixture
def configure_endpoints(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """Call it with the endpoint list; the variable reaches workers too, and the cached settings are
    dropped before and after so no other test sees them."""

    def configure(endpoints: list[dict[str, Any]]) -> None:
        monkeypatch.setenv("SOCRATIC_TEACHER_ENDPOINTS", json.dumps(endpoints))
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()
