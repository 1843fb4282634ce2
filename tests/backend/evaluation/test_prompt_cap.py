"""A prompt over the token cap (the max_prompt_tokens setting, or what the model's context leaves for the
generation) never reaches a local model: its text gets a clear error, the batch's other prompts go on, and
a step-through step ends with that error instead of minutes of the shared worker's time."""

from pathlib import Path
from typing import Any

import pytest

from backend.evaluation import stepthrough
from backend.evaluation.generate import generate_texts, refused_prompts
from backend.model_worker.streaming import StreamingModel
from backend.teacher.base import Completion, GenerationParams
from backend.teacher.transformers_backend import TransformersBackend
from tests.backend.evaluation.scripted import ScriptedBackend

SHORT, LONG = "Tom has 3 boxes.", "Tom has 3 boxes of 5 pens. " * 400  # about 3,200 tokens


@pytest.fixture(scope="module")
def tiny(tiny_gpt2: Path) -> TransformersBackend:
    return TransformersBackend(str(tiny_gpt2), batching="static")


class Recording:
    """The tiny model, remembering which prompts reached it."""

    def __init__(self, inner: TransformersBackend) -> None:
        self.original, self.sent = inner.generate, []

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        self.sent.extend(prompts)
        return self.original(prompts, params)


def test_a_long_prompt_is_refused_and_the_others_go_on(tiny: TransformersBackend, monkeypatch) -> None:
    recording = Recording(tiny)
    monkeypatch.setattr(tiny, "generate", recording.generate)
    short, long = generate_texts(tiny, [SHORT, LONG], GenerationParams(max_tokens=4), calculator=False)
    assert recording.sent == [SHORT]
    assert short.error is None and short.tokens_out > 0
    assert long.text == "" and long.tokens_in == 0
    assert long.error is not None and "tokens long" in long.error and "at most 1020" in long.error


def test_the_setting_caps_below_the_context(tiny: TransformersBackend, monkeypatch) -> None:
    monkeypatch.setenv("SOCRATIC_MAX_PROMPT_TOKENS", "20")
    from db.settings import get_settings

    get_settings.cache_clear()
    try:
        refused = refused_prompts(tiny, [SHORT, "pens " * 30], GenerationParams(max_tokens=8))
    finally:
        get_settings.cache_clear()
    assert list(refused) == [1] and "at most 20" in refused[1]
    assert refused_prompts(tiny, ["pens " * 30], GenerationParams(), cap=100) == {}


def test_a_server_backend_counts_by_its_own_context() -> None:
    backend = ScriptedBackend(lambda prompt: " ok")
    [result] = generate_texts(backend, [LONG], GenerationParams(), calculator=False, max_prompt_tokens=16)
    assert result.error is None and backend.calls == [[LONG]]


def test_a_step_through_step_with_a_long_question_ends_with_the_reason(tiny: TransformersBackend) -> None:
    model: Any = StreamingModel(tiny)  # as the model worker holds it
    state = stepthrough.StepSession(question=LONG, decomposer={"a": 1}, solver={"a": 1})
    with pytest.raises(RuntimeError, match=r"tokens long and this model takes at most"):
        stepthrough.ask_next(state, model)
    assert state.pairs == [] and not state.finished  # nothing was made of an empty text
