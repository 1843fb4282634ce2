"""Attention for decoding a padded batch on CPU, registered with transformers as `grouped`.

Profiled on SmolLM2 (bf16, 16 rows x 600 cached tokens, 2 cores), transformers' `sdpa` spent about 60%
of a decoding step in the CPU flash-attention kernel and most of the rest copying: with a padding mask
it cannot use grouped-query attention, so it first repeats every key and value head for the 3 query heads
that share it (a full copy of the cache per layer and step). Here the query heads of a group are stacked
instead, and two plain batched matmuls read the cache in place:
    (B, Hkv, G*q, D) @ (B, Hkv, D, T) -> scores (B, Hkv, G*q, T) -> softmax (fp32) @ (B, Hkv, T, D).
A decoding step (one query per row) goes instead to torch's own kernel with grouped heads (`enable_gqa`,
which it runs with a mask on CPU): it reads the refill loop's cache, a view into larger buffers, in place,
where the matmuls copy it first. Profiled as above at 64 rows x 300 tokens: 71-74 against 91-93 ms a
step, the cache written in place included (docs/results.md, "Evaluation speed"). The kernel reads every
column, masked or not, so a step's rows go in groups that skip the padding before their first real
column (`decode_attention`).
"""

from itertools import pairwise
from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = "grouped"
# Per-layer extras of some architectures (logit soft-capping, sliding windows, attention sinks): handed
# to transformers' own sdpa, which knows them.
SPECIAL = ("softcap", "sliding_window", "s_aux", "position_bias")


def grouped_attention(
    module: torch.nn.Module,
    query: torch.Tensor,  # (B, Hq, q, D)
    key: torch.Tensor,  # (B, Hkv, T, D)
    value: torch.Tensor,  # (B, Hkv, T, D)
    attention_mask: torch.Tensor | None,  # (B, 1, q, T) bool, True where attended; None: plain causal
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    if any(kwargs.get(name) is not None for name in SPECIAL) or not kwargs.get("is_causal", True):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, **kwargs)
    batch, query_heads, length, dim = query.shape
    kv_heads, total = key.shape[1], key.shape[2]
    groups = query_heads // kv_heads  # query heads i*G .. i*G+G-1 share key/value head i
    scale = scaling if scaling is not None else dim**-0.5
    if length == 1:
        return decode_attention(query, key, value, attention_mask, scale), None
    stacked = query.reshape(batch, kv_heads, groups * length, dim)
    scores = torch.matmul(stacked, key.transpose(-1, -2)).float() * scale  # (B, Hkv, G*q, T)
    scores = scores.view(batch, kv_heads, groups, length, total)
    # The lowest finite score rather than -inf: a padding position's query, which attends to nothing,
    # then gets finite weights instead of NaN (a NaN would spread through 0 * NaN in later layers).
    lowest = torch.finfo(scores.dtype).min
    if attention_mask is None:
        if length > 1:  # the mask was skipped because it is purely causal: apply causality here
            causal = torch.ones(length, total, dtype=torch.bool, device=query.device).tril(total - length)
            scores = scores.masked_fill(~causal, lowest)
    else:
        scores = scores.masked_fill(~attention_mask[:, :, None], lowest)  # mask (B, 1, 1, q, T)
    weights = torch.softmax(scores, dim=-1).to(value.dtype).view(batch, kv_heads, groups * length, total)
    output = torch.matmul(weights, value)  # (B, Hkv, G*q, D)
    return output.view(batch, query_heads, length, dim).transpose(1, 2).contiguous(), None  # (B, q, Hq, D)


def decode_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None, scale: float
) -> torch.Tensor:
    """One decoding step, (B, 1, Hq, D), with each group of rows reading only the columns it attends to.

    Each row's one query attends at least to its own newest position, so no row is all masked (which
    would give NaN). torch's CPU kernel groups the heads itself and reads the cache through its strides;
    a matmul would first copy a cache that is a view into larger buffers (slab_cache.py), and the copy
    costs more than the attention. The kernel does not skip masked columns, and the refill loop's rows
    are right-aligned: a row admitted late starts far to the right of the longest one, and all its
    columns before that are padding. So the rows are cut into groups (`span_groups`), each attending
    from the first column any of its rows uses; the masked columns it skips would have weight 0.
    """
    groups = span_groups(mask, query.shape[0])
    outputs = [
        torch.nn.functional.scaled_dot_product_attention(
            query[rows], key[rows, :, first:], value[rows, :, first:],
            attn_mask=None if mask is None else mask[rows, :, :, first:], scale=scale, enable_gqa=True,
        )
        for rows, first in groups
    ]  # fmt: skip
    output = outputs[0] if len(outputs) == 1 else torch.cat(outputs)
    return output.transpose(1, 2).contiguous()


# A group's kernel call costs about what this many rows x columns of attention do: on one core, SmolLM2
# in bf16, about 18 us a call against about 1 us a row-column (9 query heads); a larger model's
# row-column costs more, so the figure errs towards fewer calls.
CALL_COST = 64
GROUP_COUNTS = (1, 2, 4, 8, 16)


def span_groups(mask: torch.Tensor | None, batch: int) -> list[tuple[slice, int]]:
    """Row ranges of a decoding step's batch with the first column each attends to: the split into equal
    consecutive groups (from `GROUP_COUNTS`) that reads the fewest row-columns, a call's cost counted.

    The refill loop keeps rows in the order they were admitted, so consecutive rows tend to be of
    similar age and length, and equal groups catch most of the padding."""
    whole = [(slice(None), 0)]
    if mask is None or mask.dtype != torch.bool or mask.shape[0] != batch:
        return whole  # no padding, or a mask shared by all rows: nothing to skip row by row
    total = mask.shape[-1]
    # the first True of each row (a row with none would give 0: every column, as without groups)
    starts = mask[:, 0, -1].to(torch.uint8).argmax(dim=-1).tolist()
    best, best_cost = whole, batch * total + CALL_COST
    for count in GROUP_COUNTS[1:]:
        if count > batch:
            break
        bounds = [batch * index // count for index in range(count + 1)]
        groups = [(slice(a, b), min(starts[a:b])) for a, b in pairwise(bounds)]
        cost = sum((rows.stop - rows.start) * (total - first) + CALL_COST for rows, first in groups)
        if cost < best_cost:
            best, best_cost = groups, cost
    return best


def use_grouped_attention(lm: Any) -> None:
    """Switch a loaded model to this attention (the boolean masks are the ones `sdpa` builds)."""
    AttentionInterface.register(NAME, grouped_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    lm.set_attn_implementation(NAME)
