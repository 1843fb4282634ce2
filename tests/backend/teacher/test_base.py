"""The backend interface: parameter validation, stop-string cutting and backend lookup."""

import pytest

from backend.model_ref import open_backend
from backend.teacher.base import GenerationParams, cut_at_stop


def test_params_defaults_are_greedy_single_sample() -> None:
    params = GenerationParams()
    assert (params.n, params.greedy, params.stop) == (1, True, [])


@pytest.mark.parametrize(
    ("field", "value"), [("n", 0), ("temperature", -0.1), ("top_p", 0.0), ("top_p", 1.5), ("max_tokens", 0)]
)
def test_params_reject_bad_values_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        GenerationParams(**{field: value})  # type: ignore[arg-type]


def test_cut_at_stop_uses_the_earliest_marker() -> None:
    assert cut_at_stop("a b\nQ: c ###", ["###", "\nQ:"]) == "a b"
    assert cut_at_stop("nothing to cut", ["###", ""]) == "nothing to cut"


def test_open_backend_names_the_choices_for_an_unknown_backend() -> None:
    with pytest.raises(ValueError, match="transformers, vllm, openai"):
        open_backend("llamafile", "x")


def test_open_backend_requires_a_model() -> None:
    with pytest.raises(ValueError, match="model is required"):
        open_backend("transformers", "  ")
