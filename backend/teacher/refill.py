"""Continuous batching over the KV cache: a finished sequence leaves the batch at once and the next waiting
prompt takes its slot, so a batch never waits for its longest sample (static batching did: with 4 samples
of 256 tokens, a batch ran until its slowest sample ended, mostly on padding rows).

The running rows share one cache of `SlabLayer`s (slab_cache.py: written in place, never concatenated),
left-padded to a common length: row b's keys and values are `layer.keys[b]` (H, T, D) and `mask[b]` (T,)
marks its real positions. Each row carries its own
position ids, so padding (or a hole between a shared prefix and the rest of a prompt) changes nothing.
A prompt is prefilled once for all its samples (its cache row repeated), and a prompt prefix shared by
the whole call (the few-shot block) can be prefilled once and reused by every prompt (`SharedPrefix`).

A caller may revise a row's text when it would end (`Revise`: the calculator sets a wrong value right and
the model goes on). The row stays in the batch: the tokens its new text keeps stay in the cache, the ones
it drops are masked out (a hole, like padding), and the new text's remaining tokens are fed to the row one
per step, in the steps the other rows decode anyway. So a revision costs a few tokens of that row, where
ending the call and continuing the text in a new one costs a prefill of the whole prompt and text, and a
batch that waits for its slowest row before any row goes on.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache
from transformers.cache_utils import Cache, DynamicLayer

from backend.teacher.base import GenerationParams, cut_at_stop
from backend.teacher.progress import GenerationProgress
from backend.teacher.sampling import EndRule, choose_tokens
from backend.teacher.slab_cache import SlabLayer

KeysValues = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values (B, H, T, D)
# Called when a row would end: (prompt index, the text written since the row's last revision, cut before
# any stop string; its tokens; whether it was cut off (its token budget, or the loop rule: such a row is
# never continued)) -> the whole text the row goes on from (everything after the prompt), or None when done.
Revise = Callable[[int, str, int, bool], str | None]
MIN_SHARED_PREFIX = 16  # tokens: below this a shared prefix saves less than it costs to keep


@dataclass
class Request:
    prompt: int  # the prompt's index in the call
    sample: int
    ids: list[int]  # prompt token ids
    max_tokens: int
    generator: torch.Generator | None = None  # sampling only


@dataclass
class Finished:
    request: Request
    tokens: list[int]  # generated tokens counted in tokens_out (an end-of-sequence token is)
    logprob: float
    looped: bool = False  # ended by the loop rule


@dataclass
class SharedPrefix:
    ids: tuple[int, ...]
    keys_values: KeysValues  # (1, H, P, D) per layer


@dataclass
class _Row:
    request: Request
    tokens: list[int] = field(default_factory=list)
    logprob: float = 0.0
    forced: list[int] = field(default_factory=list)  # a revision's tokens, fed before the model goes on
    since: int = 0  # where the text after the last revision starts in `tokens` (stop strings count there)
    looped: bool = False  # ended by the loop rule: cut off, never continued by a revision


def kept_tokens(tokens: list[int], text: str, decode: Callable[[list[int]], str]) -> tuple[int, str]:
    """The most leading tokens whose text starts `text`, and that text (a binary search: a longer run of
    tokens starts it only if a shorter one does, but for a character split across tokens)."""
    low, high = 0, len(tokens)
    while low < high:
        middle = (low + high + 1) // 2
        if text.startswith(decode(tokens[:middle])):
            low = middle
        else:
            high = middle - 1
    return low, decode(tokens[:low])


def common_prefix_length(prompts: Sequence[Sequence[int]]) -> int:
    """Tokens shared by the start of every prompt, leaving each at least one token of its own."""
    shortest = min(len(ids) for ids in prompts)
    length = 0
    while length < shortest - 1 and all(ids[length] == prompts[0][length] for ids in prompts):
        length += 1
    return length


def full_attention(lm: Any) -> bool:
    """Whether every layer of the model caches all positions (no sliding window, no linear attention):
    the loop pads, trims and merges rows of such caches only."""
    return all(type(layer) is DynamicLayer for layer in DynamicCache(config=lm.config).layers)


def _layers(cache: DynamicCache) -> list[DynamicLayer]:
    layers = [layer for layer in cache.layers if isinstance(layer, DynamicLayer)]
    assert len(layers) == len(cache.layers), "the refill loop needs full-attention cache layers"
    return layers


def _kv(layer: DynamicLayer) -> tuple[torch.Tensor, torch.Tensor]:
    assert layer.keys is not None and layer.values is not None
    return layer.keys, layer.values


def _left_pad(tensor: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    missing = length - tensor.shape[dim]
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


class RunningBatch:
    """The rows being generated: their cache, attention mask, next positions and next-token logits."""

    def __init__(self, lm: Any) -> None:
        self.lm = lm
        self.rows: list[_Row] = []
        self.cache: Cache | None = None  # one SlabLayer per model layer
        self.mask = torch.zeros(0, 0, dtype=torch.long)  # (B, T): 1 where a row has a real token
        self.positions = torch.zeros(0, dtype=torch.long)  # (B,) position id of each row's next input
        self.logits = torch.zeros(0, 0)  # (B, V) each row's logits for its next token

    def add(self, rows: list[_Row], keys_values: KeysValues, length: int, logits: torch.Tensor) -> None:
        """Append rows whose caches (k, H, L, D) hold `length` real tokens (no padding)."""
        device = logits.device
        mask = torch.ones(len(rows), length, dtype=torch.long, device=device)
        positions = torch.full((len(rows),), length, dtype=torch.long, device=device)
        if self.cache is None or not self.rows:
            self.cache = Cache(layers=[SlabLayer(keys, values) for keys, values in keys_values])
            self.rows, self.mask, self.positions, self.logits = list(rows), mask, positions, logits
            return
        total = max(self.mask.shape[1], length)
        for layer, (keys, values) in zip(self._slabs(), keys_values, strict=True):
            layer.append_rows(keys, values)
        self.mask = torch.cat([_left_pad(self.mask, total, 1), _left_pad(mask, total, 1)])
        self.positions = torch.cat([self.positions, positions])
        self.logits = torch.cat([self.logits, logits])
        self.rows.extend(rows)

    def keep(self, indices: list[int]) -> None:
        """Drop every row not in `indices`, then the leading columns no remaining row uses."""
        if len(indices) == len(self.rows):
            return
        self.rows = [self.rows[i] for i in indices]
        if not self.rows:
            self.cache = None
            return
        assert self.cache is not None
        chosen = torch.tensor(indices, device=self.mask.device)
        self.mask, self.positions, self.logits = (
            self.mask[chosen],
            self.positions[chosen],
            self.logits[chosen],
        )
        first = int(self.mask.any(dim=0).nonzero()[0])  # earliest column a remaining row still uses
        if SlabLayer.trims(first, self.mask.shape[1]):
            self.mask = self.mask[:, first:]
        for layer in self._slabs():
            layer.keep_rows(indices, first)

    def _slabs(self) -> list[SlabLayer]:
        assert self.cache is not None
        return [layer for layer in self.cache.layers if isinstance(layer, SlabLayer)]

    def forget_last(self, index: int, count: int) -> None:
        """Row `index` no longer attends to its last `count` cached tokens, and its next token takes the
        position of the first of them."""
        if count > 0:
            self.mask[index, -count:] = 0
            self.positions[index] -= count

    def step(self, tokens: torch.Tensor) -> None:
        """Feed each row its chosen token (B,); afterwards `logits` are for the token after it."""
        self.mask = torch.cat([self.mask, self.mask.new_ones(len(self.rows), 1)], dim=1)
        output = self.lm(
            input_ids=tokens[:, None],
            attention_mask=self.mask,
            position_ids=self.positions[:, None],
            past_key_values=self.cache,
            use_cache=True,
        )
        self.positions = self.positions + 1
        self.logits = output.logits[:, -1].float()


def prefill(lm: Any, ids: list[int], prefix: SharedPrefix | None) -> tuple[KeysValues, torch.Tensor]:
    """One prompt's cache (1, H, L, D) per layer and its last-token logits (1, V); with a shared prefix,
    only the tokens after it are computed."""
    device = lm.device
    start = len(prefix.ids) if prefix is not None else 0
    past = DynamicCache(ddp_cache_data=prefix.keys_values) if prefix is not None else DynamicCache()
    output = lm(
        input_ids=torch.tensor([ids[start:]], device=device),
        attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=device),
        position_ids=torch.arange(start, len(ids), device=device)[None],
        past_key_values=past,
        use_cache=True,
        logits_to_keep=1,  # the prompt's other positions' logits (T, V) are never used
    )
    cache = output.past_key_values
    return [_kv(layer) for layer in _layers(cache)], output.logits[:, -1].float()


def make_prefix(lm: Any, ids: Sequence[int]) -> SharedPrefix:
    """The cache of a prefix shared by many prompts, computed once."""
    keys_values, _ = prefill(lm, list(ids), None)
    return SharedPrefix(tuple(ids), keys_values)


class RefillLoop:
    """Generate every request with at most `slots` rows running at once, refilling freed slots."""

    def __init__(
        self,
        lm: Any,
        params: GenerationParams,
        rule: EndRule,
        decode: Callable[[list[int]], str],
        *,
        encode: Callable[[str], list[int]] | None = None,
        slots: int,
        prefix: SharedPrefix | None = None,
        report: Callable[[GenerationProgress], None] | None = None,
    ) -> None:
        self.lm, self.params, self.rule, self.decode = lm, params, rule, decode
        self.encode = encode or (lambda text: [])  # a revised text's new tokens (only `revise` needs it)
        self.slots, self.prefix, self.report = slots, prefix, report
        self.batch = RunningBatch(lm)

    def run(self, requests: list[Request], revise: Revise | None = None) -> list[Finished]:
        """Finished sequences in request order; with `revise`, a row that would end may go on from a new
        text (the Finished tokens are then the ones generated last, as the cache holds them)."""
        waiting = requests[::-1]  # pop() from the end takes requests in order
        left: dict[int, int] = {}  # prompt -> samples not finished yet
        for request in requests:
            left[request.prompt] = left.get(request.prompt, 0) + 1
        progress = GenerationProgress(sequences=len(requests))
        finished: dict[tuple[int, int], Finished] = {}
        while waiting or self.batch.rows:
            self._admit(waiting)
            rows = self.batch.rows
            chosen, logprobs = choose_tokens(
                self.batch.logits, self.params, [row.request.generator for row in rows]
            )
            keep, fed = [], []
            for index, (row, token, logprob) in enumerate(
                zip(rows, chosen.tolist(), logprobs.tolist(), strict=True)
            ):
                before = len(row.tokens)
                if row.forced:
                    token = row.forced.pop(0)
                    row.tokens.append(token)
                    running = True
                else:
                    running = self._advance(row, token, logprob)
                    progress.tokens_out += len(row.tokens) - before
                    appended = len(row.tokens) > before  # a pad token ends a row without being kept
                    if not running and revise is not None and self._revised(index, row, revise, appended):
                        token, running = row.forced.pop(0), True
                        row.tokens.append(token)
                if running:
                    keep.append(index)
                    fed.append(token)
                    continue
                finished[row.request.prompt, row.request.sample] = Finished(
                    row.request, row.tokens, row.logprob, row.looped
                )
                progress.finished += 1
                left[row.request.prompt] -= 1
                if left[row.request.prompt] == 0:
                    progress.prompts_done.append(row.request.prompt)
            self.batch.keep(keep)
            if self.batch.rows:
                self.batch.step(torch.tensor(fed, dtype=torch.long, device=chosen.device))
            if self.report is not None:
                self.report(progress)
        return [finished[request.prompt, request.sample] for request in requests]

    def _revised(self, index: int, row: _Row, revise: Revise, appended: bool) -> bool:
        """Ask `revise` about a row that would end; when it goes on, keep the tokens its new text starts
        with, forget the rest in the cache and queue the new text's other tokens (True)."""
        tokens = row.tokens
        ended = bool(tokens) and tokens[-1] in self.rule.end_ids
        written = cut_at_stop(self.decode(tokens[row.since :]), self.rule.stop)
        cut_off = row.looped or (len(tokens) >= row.request.max_tokens and not ended)
        text = revise(row.request.prompt, written, len(tokens) - row.since, cut_off)
        if not text or row.looped:  # `revise` still records a looping row's last text
            return False
        # An end token decodes to nothing, so it would look kept: the text goes on without it.
        count, start = kept_tokens(tokens[:-1] if ended else tokens, text, self.decode)
        suffix = self.encode(text[len(start) :]) if len(start) < len(text) else []
        if not suffix:  # the text ends inside the kept tokens: feed the last of them again
            if count == 0:
                return False
            count, suffix = count - 1, [tokens[count - 1]]
        cached = len(tokens) - 1 if appended else len(tokens)  # the token that ended the row was never fed
        self.batch.forget_last(index, cached - count)
        row.forced = tokens[cached:count] + suffix
        row.tokens = tokens[: min(count, cached)]
        row.since = len(row.tokens) + len(row.forced)
        return True

    def _advance(self, row: _Row, token: int, logprob: float) -> bool:
        """Record the row's new token; False when the row has finished."""
        if token == self.rule.pad_id and token not in self.rule.end_ids:
            return False  # not counted, as `generate` pads a finished row
        row.tokens.append(token)
        row.logprob += logprob
        if token in self.rule.end_ids or len(row.tokens) >= row.request.max_tokens:
            return False
        if self.rule.stop:
            tail = self.decode(row.tokens[max(row.since, len(row.tokens) - self.rule.stop_window) :])
            if any(marker in tail for marker in self.rule.stop):
                return False
        if self.rule.loop is not None and self.rule.loop.repeats(row.tokens):
            row.looped = True
            return False
        return True

    def _admit(self, waiting: list[Request]) -> None:
        """Fill free slots with waiting requests; a prompt is prefilled once for all its samples here."""
        free = self.slots - len(self.batch.rows)
        while free > 0 and waiting:
            group = [waiting.pop()]
            while len(group) < free and waiting and waiting[-1].prompt == group[0].prompt:
                group.append(waiting.pop())
            keys_values, logits = prefill(self.lm, group[0].ids, self.prefix)
            count = len(group)
            repeated = [(k.expand(count, -1, -1, -1), v.expand(count, -1, -1, -1)) for k, v in keys_values]
            rows = [_Row(request) for request in group]
            self.batch.add(rows, repeated, len(group[0].ids), logits.expand(count, -1))
            free -= count
