"""Decoding attention in groups of rows (backend.teacher.attention): the same output as one kernel call
over every column, and groups chosen only where they skip enough padding."""

from pathlib import Path

import pytest
import torch

from backend.teacher import attention
from backend.teacher.attention import decode_attention, span_groups
from backend.teacher.base import GenerationParams
from backend.teacher.transformers_backend import TransformersBackend

ROWS, COLUMNS, QUERY_HEADS, KV_HEADS, DIM = 16, 120, 6, 2, 8


def right_aligned_mask(starts: list[int], columns: int = COLUMNS) -> torch.Tensor:
    """(B, 1, 1, T): row b attends from starts[b] to the last column, as the refill loop lays rows out."""
    return (torch.arange(columns)[None, :] >= torch.tensor(starts)[:, None])[:, None, None, :]


def whole_batch(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """One kernel call over every column: what the groups must equal."""
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=mask, scale=DIM**-0.5, enable_gqa=True
    )
    return out.transpose(1, 2)


def test_groups_of_rows_give_the_whole_batchs_output_whatever_the_row_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(0)
    starts = torch.randint(0, COLUMNS - 1, (ROWS,)).tolist()  # rows in no particular order
    mask = right_aligned_mask(starts)
    mask[3, 0, 0, starts[3] + 1 : starts[3] + 4] = False  # a revised row's hole inside its span
    query = torch.randn(ROWS, QUERY_HEADS, 1, DIM)
    # the cache a view into a larger buffer, as the slab cache hands it over
    buffer = torch.randn(2, ROWS + 4, KV_HEADS, COLUMNS + 32, DIM)
    key, value = buffer[0, :ROWS, :, :COLUMNS], buffer[1, :ROWS, :, :COLUMNS]
    monkeypatch.setattr(attention, "CALL_COST", 0)  # every split pays: the groups are certainly used
    assert len(span_groups(mask, ROWS)) > 1
    got = decode_attention(query, key, value, mask, DIM**-0.5)
    assert torch.allclose(got, whole_batch(query, key, value, mask), atol=1e-5)


def test_groups_start_where_their_rows_first_attend() -> None:
    late = [0] * 8 + [100] * 8  # half the rows admitted late: 100 columns of padding each
    groups = span_groups(right_aligned_mask(late), 16)
    assert [(rows.start, rows.stop, first) for rows, first in groups] == [(0, 8, 0), (8, 16, 100)]
    assert span_groups(right_aligned_mask([0] * 16), 16) == [(slice(None), 0)]  # nothing to skip
    assert span_groups(right_aligned_mask([0, 3]), 2) == [(slice(None), 0)]  # a call costs more than 3
    assert span_groups(right_aligned_mask([5]), 4) == [(slice(None), 0)]  # one mask shared by the rows
    assert span_groups(None, 4) == [(slice(None), 0)]


@pytest.mark.parametrize("params", [GenerationParams(max_tokens=24), GenerationParams(n=2, max_tokens=12)])
def test_greedy_output_with_groups_on_every_step_equals_the_static_path(
    tiny_llama: Path, params: GenerationParams, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attention, "CALL_COST", 0)  # any padding at all splits the batch
    split: list[int] = []

    def counted(mask: torch.Tensor | None, batch: int) -> list[tuple[slice, int]]:
        groups = span_groups(mask, batch)
        split.append(len(groups))
        return groups

    monkeypatch.setattr(attention, "span_groups", counted)
    prompts = ["Q: How many pens does Tom have? A:", "x", "Natalia sold clips to 48 friends", "Tom has 3"]
    continuous = TransformersBackend(str(tiny_llama), dtype="float32", batch_size=3).generate(prompts, params)
    static = TransformersBackend(str(tiny_llama), dtype="float32", batch_size=3, batching="static").generate(
        prompts, params
    )
    assert [[c.text for c in s] for s in continuous] == [[c.text for c in s] for s in static]
    assert max(split) > 1  # the rows really went in groups
