"""Choosing the next token of each running sequence, and deciding when a sequence is finished.

Used by the continuous-batching loop (backend.teacher.refill). Sampling draws each row's random number
from its own `torch.Generator`, seeded per (prompt, sample): a sample's random stream does not depend on
which other sequences happened to share its batch, so a seeded run gives the same draws however it was
scheduled.
"""

from dataclasses import dataclass

import torch

from backend.teacher.base import GenerationParams
from backend.teacher.loops import LoopRule


def sample_seed(seed: int, prompt: int, sample: int) -> int:
    """One seed per (prompt, sample) of a call, derived from the call's seed."""
    return (seed * 1_000_003 + prompt * 7919 + sample) % (2**63)


# Tokens a nucleus is first looked for among: sorting all of SmolLM2's 49,152 for 64 rows took about
# 280 ms a step on one core, the 1,024 likeliest about 30 (bench/sampler_speed.py).
NUCLEUS_CANDIDATES = 1024


def top_p_filter(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """(B, V) probabilities with the tail outside the nucleus zeroed (the most likely token always stays).

    Exact: where the likeliest `NUCLEUS_CANDIDATES` of every row already hold `top_p` of its mass, every
    token outside them is outside the nucleus; otherwise (a flat distribution) the whole rows are sorted.
    """
    if top_p >= 1.0:
        return probs
    if probs.shape[-1] > NUCLEUS_CANDIDATES:
        likeliest, order = probs.topk(NUCLEUS_CANDIDATES, dim=-1)  # sorted, most likely first
        if bool((likeliest.sum(dim=-1) >= top_p).all()):
            return _nucleus(likeliest, order, top_p, probs)
    return full_sort_nucleus(probs, top_p)


def full_sort_nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """The nucleus with every token of every row sorted: right for any distribution, and the slow path
    over a 49,152-token vocabulary (bench/sampler_speed.py times the two)."""
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    return _nucleus(sorted_probs, order, top_p, probs)


def _nucleus(
    sorted_probs: torch.Tensor, order: torch.Tensor, top_p: float, probs: torch.Tensor
) -> torch.Tensor:
    """The rows' probabilities, descending (`order`: their token ids), cut after the nucleus and put back
    in place in a zeroed (B, V) tensor shaped like `probs`."""
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass of the more likely tokens
    sorted_probs[mass_before >= top_p] = 0.0
    return torch.zeros_like(probs).scatter_(-1, order, sorted_probs)


def choose_tokens(
    logits: torch.Tensor, params: GenerationParams, generators: list[torch.Generator | None]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens (B,), their log-probabilities (B,)) from the last step's logits (B, V).

    The log-probability is the model's own (before temperature and top-p), as vLLM reports it.
    """
    logits = logits.float()
    logprobs = torch.log_softmax(logits, dim=-1)
    if params.greedy:
        tokens = logits.argmax(dim=-1)
    else:
        probs = top_p_filter(torch.softmax(logits / params.temperature, dim=-1), params.top_p)
        tokens = draw(probs, generators)
    return tokens, logprobs.gather(1, tokens[:, None]).squeeze(1)


def draw(probs: torch.Tensor, generators: list[torch.Generator | None]) -> torch.Tensor:
    """One token per row of (B, V) probabilities (unnormalised is fine), by inverse CDF: each row's own
    generator gives one uniform number, then the whole batch is searched at once.

    The same distribution as `torch.multinomial` row by row, which with a generator per row has to be
    called once per row: 64 rows over SmolLM2's 49,152-word vocabulary took about 69 ms a step on one
    core against about 3 here (bench/sampler_speed.py). The cumulative sums are float32, as vLLM's
    samplers keep them: a token below float32's resolution near 1 (about 6e-8) may be drawn at a slightly
    wrong rate, a mass too small to show in any sample. A token of probability 0 is never drawn:
    `right=True` finds the first cumulative sum above the target, and a zero adds nothing to it.
    """
    uniforms = torch.cat(
        [torch.rand(1, generator=generator, device=probs.device) for generator in generators]
    )
    cumulative = probs.cumsum(dim=-1)
    targets = (uniforms * cumulative[:, -1])[:, None]
    chosen = torch.searchsorted(cumulative, targets, right=True).squeeze(1)
    return chosen.clamp_(max=probs.shape[-1] - 1)  # a rounding at the very top lands on the last token


@dataclass
class EndRule:
    """When a sequence ends: an end-of-sequence token (counted), the pad token (not counted: it marks
    the end the way left-padded `generate` output does), its token budget, a stop string in its text, or
    (with `loop`) a tail that repeats one block (backend.teacher.loops)."""

    end_ids: set[int]
    pad_id: int | None
    stop: list[str]
    loop: LoopRule | None = None

    @property
    def stop_window(self) -> int:
        # A token decodes to at least one character, so a stop string completed by the newest token lies
        # within the last len(stop) tokens; a small margin covers tokens that decode to nothing.
        return max((len(marker) for marker in self.stop), default=0) + 4
