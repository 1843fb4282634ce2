"""The worker's parts in this process: text reported as tokens arrive, and the bounded model cache."""

from itertools import pairwise
from pathlib import Path

import pytest

from backend.model_worker.cache import ModelCache
from backend.model_worker.protocol import ModelLoad
from backend.model_worker.streaming import StreamingModel
from backend.teacher.base import GenerationParams
from tests.backend.evaluation.scripted import ScriptedBackend


def test_a_transformers_model_reports_its_text_token_by_token(tiny_gpt2: Path) -> None:
    from backend.teacher.transformers_backend import TransformersBackend

    model = StreamingModel(TransformersBackend(str(tiny_gpt2)))
    texts: list[str] = []
    with model.watching(texts.append):
        [[completion]] = model.generate(["Tom has 3 boxes"], GenerationParams(max_tokens=12))
    assert len(texts) >= 5  # one report per token (the random model rarely ends early), plus the final
    assert texts[-1] == completion.text
    assert all(later.startswith(earlier) or earlier.endswith("\ufffd") for earlier, later in pairwise(texts))
    texts.clear()
    model.generate(["unwatched"], GenerationParams(max_tokens=4))
    assert texts == []  # outside `watching` nothing is reported


def test_a_calculator_round_reports_the_text_before_it() -> None:
    """generate_texts resends prompt + text so far after `>>`: the report keeps that text in front."""
    model = StreamingModel(
        ScriptedBackend(lambda prompt: " more" if prompt.endswith(">>") else " 2+2=<<2+2=4>>")
    )
    texts: list[str] = []
    with model.watching(texts.append):
        model.generate(["Q:"], GenerationParams(stop=[">>"]))
        model.generate(["Q: 2+2=<<2+2=4>>"], GenerationParams())
    assert texts == [" 2+2=<<2+2=4", " 2+2=<<2+2=4>> more"]


def _scripted(load: ModelLoad) -> StreamingModel:
    return StreamingModel(ScriptedBackend(lambda prompt: "x", model=load.model))


def test_the_cache_keeps_recent_models_and_unloads_idle_ones() -> None:
    cache = ModelCache(_scripted, max_models=2, idle_unload_s=60)
    a, b, c = (ModelLoad("transformers", name) for name in "abc")
    first = cache.get(a)
    assert cache.get(a) is first  # loaded once, reused
    cache.get(b)
    cache.get(a)  # a is now the most recent
    cache.get(c)  # evicts b, the least recently used
    assert b not in cache and a in cache and c in cache and first.inner.closed is False  # type: ignore[attr-defined]
    assert cache.unload_idle() == []
    later = cache.entries[c.key].used_at + 61
    assert sorted(cache.unload_idle(now=later)) == sorted([a.key, c.key]) and first.inner.closed  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        ModelCache(_scripted, max_models=0, idle_unload_s=1)
