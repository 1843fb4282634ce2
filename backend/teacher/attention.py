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
step, the cache written in place included (docs/results.md, "Evaluation speed").
"""

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
        # Decoding: each row's one query attends at least to its own newest position, so no row is all
        # masked (which would give NaN here). torch's CPU kernel groups the heads itself and reads the
        # cache through its strides; a matmul would first copy a cache that is a view into larger buffers
        # (slab_cache.py), and the copy costs more than the attention.
        output = torch.nn.functional.scaled_dot_product_attention(
            query, key, value, attn_mask=attention_mask, scale=scale, enable_gqa=True
        )
        return output.transpose(1, 2).contiguous(), None
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


def use_grouped_attention(lm: Any) -> None:
    """Switch a loaded model to this attention (the boolean masks are the ones `sdpa` builds)."""
    AttentionInterface.register(NAME, grouped_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    lm.set_attn_implementation(NAME)
