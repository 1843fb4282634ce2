"""The refill loop's in-place cache (backend.teacher.slab_cache): every row change and growth keeps each
row's keys and values exactly where a concatenated, left-padded cache would have them."""

from pathlib import Path

import pytest
import torch

from backend.teacher import slab_cache
from backend.teacher.base import GenerationParams
from backend.teacher.refill import RefillLoop, Request
from backend.teacher.sampling import EndRule
from backend.teacher.slab_cache import SlabLayer
from backend.teacher.transformers_backend import TransformersBackend

HEADS, DIM = 2, 4


def _rows(count: int, length: int) -> torch.Tensor:
    return torch.randn(count, HEADS, length, DIM)


def _padded(rows: list[torch.Tensor]) -> torch.Tensor:
    """The concatenated cache: every row (H, L, D) left-padded with zeros to the longest."""
    longest = max(row.shape[1] for row in rows)
    return torch.stack([torch.nn.functional.pad(row, (0, 0, longest - row.shape[1], 0)) for row in rows])


def test_every_change_leaves_each_row_where_the_concatenated_cache_has_it() -> None:
    torch.manual_seed(0)
    start = _rows(2, 5)
    layer = SlabLayer(start, start.clone())
    rows = list(start)  # the reference: each row's own keys, newest column last
    for _ in range(100):  # past the spare columns: the buffers grow
        step = _rows(len(rows), 1)
        keys, _ = layer.update(step, step.clone())
        rows = [torch.cat([row, new], dim=1) for row, new in zip(rows, step, strict=True)]
        assert torch.equal(keys, _padded(rows))
    longer = _rows(3, 130)  # longer than the cache: the old rows shift right, the new ones pad nothing
    layer.append_rows(longer, longer.clone())
    rows += list(longer)
    assert torch.equal(layer.keys, _padded(rows)) and layer.keys.shape[:3] == (5, HEADS, 130)
    shorter = _rows(4, 7)  # past the spare rows, shorter than the cache: zeros before them
    layer.append_rows(shorter, shorter.clone())
    rows += list(shorter)
    assert torch.equal(layer.keys, _padded(rows)) and torch.equal(layer.values, layer.keys)
    kept = [2, 3, 6]  # the longer rows and one short one: no kept row uses the first 0 columns
    layer.keep_rows(kept, 0)
    rows = [rows[i] for i in kept]
    assert torch.equal(layer.keys, _padded(rows))


def test_unused_leading_columns_are_dropped_only_when_they_are_a_quarter_of_the_cache() -> None:
    long, short = _rows(1, 200), _rows(1, 100)
    layer = SlabLayer(*(2 * [torch.cat([long, torch.nn.functional.pad(short, (0, 0, 100, 0))])]))
    layer.keep_rows([1], 100)  # the short row alone: half the columns are unused
    assert layer.keys.shape[2] == 100 and torch.equal(layer.keys, short)
    assert not SlabLayer.trims(40, 200) and not SlabLayer.trims(20, 40) and SlabLayer.trims(50, 200)


def _generate(teacher: TransformersBackend, requests: list[Request]) -> list[list[int]]:
    rule = EndRule(end_ids=set(), pad_id=None, stop=[])
    loop = RefillLoop(teacher.lm, GenerationParams(max_tokens=30), rule, teacher._decode, slots=2)
    return [done.tokens for done in loop.run(requests)]


def test_greedy_output_is_unchanged_when_every_unused_column_is_dropped(
    tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher = TransformersBackend(str(tiny_llama), dtype="float32")
    prompts = ["Q: How many pens does Tom have? Tom has 3 boxes of 5 pens. A:", "x", "Tom has", "y"]
    ids = [teacher._encode(prompt) for prompt in prompts]
    # The long prompt ends first, so the short one running beside it leaves the leading columns unused.
    requests = [Request(i, 0, ids[i], budget) for i, budget in enumerate((3, 30, 4, 12))]
    kept = _generate(teacher, requests)
    monkeypatch.setattr(slab_cache, "MIN_TRIM", 1)
    trimmed: list[bool] = []
    trims = SlabLayer.trims
    monkeypatch.setattr(SlabLayer, "trims", staticmethod(lambda *a: trimmed.append(trims(*a)) or trimmed[-1]))
    assert _generate(teacher, requests) == kept
    assert any(trimmed)  # columns were dropped in that call
