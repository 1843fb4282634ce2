"""Key/value storage for the refill loop that grows in place (a "slab" per layer).

transformers' `DynamicLayer` concatenates each step's keys and values onto the cache, so every decoding
step copies the whole cache of every layer. Profiled on SmolLM2 (bf16, 64 rows x 300 cached tokens,
2 cores), that copy (`aten::cat`) took 31% of a step: more than the attention's matmuls. Here each layer
keeps its keys and values in buffers with spare rows and columns. A step writes its one new column in
place; a finished row's slot is closed up by moving only the rows after it; a new row is written into the
spare rows. Whole buffers are copied only when they run out of room, or when the leading columns no
running row uses have grown to a quarter of the cache (trimming them then saves more attention work than
the copy costs).

`keys` and `values` stay what `DynamicLayer` has (views of the used rows and columns), so attention and
transformers' mask sizes read them unchanged.
"""

from typing import Any

import torch
from transformers.cache_utils import DynamicLayer

MIN_TRIM = 32  # columns: below this, the unused leading columns cost less than a copy of the cache


class SlabLayer(DynamicLayer):
    """One layer's cache, (rows, H, length, D) in use inside larger buffers."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        super().__init__()
        self.dtype, self.device = keys.dtype, keys.device
        self.is_initialized = True
        self.rows, self.length = keys.shape[0], keys.shape[2]
        self._keys = self._room(keys, self.rows, self.length, self.rows)
        self._values = self._room(values, self.rows, self.length, self.rows)
        self._views()

    @staticmethod
    def _room(tensor: torch.Tensor, rows: int, columns: int, capacity: int) -> torch.Tensor:
        """A zeroed buffer of `capacity` rows and spare columns, `tensor` (rows, H, columns, D) at its
        start. Zeros, not empty memory: a padding position gets weight 0, and 0 * NaN would be NaN."""
        spare_columns = max(64, columns // 2)
        shape = (max(capacity, rows, 1), tensor.shape[1], columns + spare_columns, tensor.shape[3])
        buffer = tensor.new_zeros(shape)
        buffer[:rows, :, :columns] = tensor[:rows, :, :columns]
        return buffer

    def _views(self) -> None:
        self.keys = self._keys[: self.rows, :, : self.length]
        self.values = self._values[: self.rows, :, : self.length]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        """Write the step's new columns (rows, H, n, D) after the used ones; the keys and values to attend."""
        count = key_states.shape[2]
        if self.length + count > self._keys.shape[2]:
            capacity = self._keys.shape[0]
            self._keys = self._room(self._keys, self.rows, self.length, capacity)
            self._values = self._room(self._values, self.rows, self.length, capacity)
        end = self.length + count
        self._keys[: self.rows, :, self.length : end] = key_states
        self._values[: self.rows, :, self.length : end] = value_states
        self.length = end
        self._views()
        return self.keys, self.values

    def append_rows(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        """New rows (k, H, L, D), right-aligned with the others (their last column is the last used one)."""
        count, length = keys.shape[0], keys.shape[2]
        if length > self.length:  # longer than every running row: shift the cache right to make room
            self._keys = self._shifted(self._keys, length - self.length)
            self._values = self._shifted(self._values, length - self.length)
            self.length = length
        if self.rows + count > self._keys.shape[0]:
            self._keys = self._grown(self._keys, self.rows + count)
            self._values = self._grown(self._values, self.rows + count)
        start, stop = self.length - length, self.rows + count
        for buffer, new in ((self._keys, keys), (self._values, values)):
            buffer[self.rows : stop, :, :start] = 0
            buffer[self.rows : stop, :, start : self.length] = new
        self.rows = stop
        self._views()

    def _shifted(self, buffer: torch.Tensor, columns: int) -> torch.Tensor:
        shape = list(buffer.shape)
        shape[2] = max(buffer.shape[2], self.length + columns + 64)
        moved = buffer.new_zeros(shape)
        moved[: self.rows, :, columns : columns + self.length] = buffer[: self.rows, :, : self.length]
        return moved

    def _grown(self, buffer: torch.Tensor, rows: int) -> torch.Tensor:
        shape = list(buffer.shape)
        shape[0] = max(rows, 2 * buffer.shape[0])
        grown = buffer.new_zeros(shape)
        grown[: self.rows, :, : self.length] = buffer[: self.rows, :, : self.length]
        return grown

    def keep_rows(self, indices: list[int], first: int) -> None:
        """Keep rows `indices` (ascending), moved up in place, and drop the `first` leading columns when
        that pays (see the module's docstring). `first` must be unused by every kept row."""
        for target, source in enumerate(indices):
            if target != source:  # ascending: a row is moved before anything is written over it
                self._keys[target, :, : self.length].copy_(self._keys[source, :, : self.length])
                self._values[target, :, : self.length].copy_(self._values[source, :, : self.length])
        self.rows = len(indices)
        if self.trims(first, self.length):
            used, capacity = slice(first, self.length), self._keys.shape[0]
            self.length -= first
            self._keys = self._room(self._keys[: self.rows, :, used], self.rows, self.length, capacity)
            self._values = self._room(self._values[: self.rows, :, used], self.rows, self.length, capacity)
        self._views()

    @staticmethod
    def trims(first: int, length: int) -> bool:
        """Whether `first` unused leading columns of `length` are dropped (a copy) or kept (masked)."""
        return first >= MIN_TRIM and 4 * first >= length
