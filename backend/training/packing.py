"""Packing, twice over: a Socratic `Dialogue` (student_formats) tokenized once as one sequence with a
completion mask over the turns the student is trained to write; and a batch's tokenized examples packed
into rows with per-example attention (`PackedRowsCollator`), so that little of a batch is padding.

TRL's SFTTrainer takes pre-tokenized rows (`input_ids` + `completion_mask`) and computes the loss on the
masked tokens only, exactly as for prompt/completion rows. The mask is read off the tokenizer's character
offsets on the whole text, so token boundaries are those of the full sequence (what the model sees at
inference), never those of separately tokenized pieces.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend.student_formats import Dialogue

if TYPE_CHECKING:
    from datasets import Dataset


def trained_spans(dialogue: Dialogue) -> list[tuple[int, int]]:
    """Character spans [start, end) of the trained segments in the dialogue's text."""
    spans, position = [], 0
    for text, trained in dialogue.segments:
        if trained:
            spans.append((position, position + len(text)))
        position += len(text)
    return spans


def tokenize_dialogue(tokenizer: Any, dialogue: Dialogue, max_length: int) -> dict[str, list[int]]:
    """input_ids and completion_mask (1 = trained) of one dialogue, EOS appended, cut to max_length."""
    encoded = tokenizer(dialogue.text, return_offsets_mapping=True)
    spans = trained_spans(dialogue)
    mask = [
        int(end > start and any(lo <= start < hi for lo, hi in spans))
        for start, end in encoded["offset_mapping"]
    ]
    input_ids = [*encoded["input_ids"], tokenizer.eos_token_id][:max_length]
    completion_mask = [*mask, int(dialogue.eos_trained)][:max_length]
    return {"input_ids": input_ids, "completion_mask": completion_mask}


def dialogue_dataset(tokenizer: Any, dialogues: Sequence[Dialogue], max_length: int) -> "Dataset":
    from datasets import Dataset

    rows = [tokenize_dialogue(tokenizer, dialogue, max_length) for dialogue in dialogues]
    return Dataset.from_dict(
        {
            "input_ids": [row["input_ids"] for row in rows],
            "completion_mask": [row["completion_mask"] for row in rows],
        }
    )


def pack_rows(lengths: Sequence[int]) -> list[list[int]]:
    """The example indices of each row: first-fit decreasing into rows as long as the longest example.
    No example is split and no row is longer than a padded batch would be, so attention never costs more."""
    capacity = max(lengths)
    rows: list[list[int]] = []
    room: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        row = next((r for r, free in enumerate(room) if lengths[index] <= free), None)
        if row is None:
            rows.append([])
            room.append(capacity)
            row = len(rows) - 1
        rows[row].append(index)
        room[row] -= lengths[index]
    return rows


@dataclass
class PackedRowsCollator:
    """A batch of tokenized examples (`input_ids`, `labels` with -100 off the completion) as packed rows.

    Each row holds whole examples one after the other, their position ids restarting at 0 at each example
    (transformers reads the per-example causal mask off them: no token attends across examples) and the
    first label of each example masked (no example is trained to predict the next one's first token). The
    same examples make the same batch as padded rows would: the optimizer steps are those of a padded run.
    `attention_mask` marks the real tokens, for the trainer's count of tokens seen; the padding after the
    last example of a row is a segment of its own and carries no label.
    """

    pad_token_id: int

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        lengths = [len(example["input_ids"]) for example in examples]
        rows = pack_rows(lengths)
        shape = (len(rows), max(lengths))
        batch = {
            "input_ids": torch.full(shape, self.pad_token_id, dtype=torch.long),
            "labels": torch.full(shape, -100, dtype=torch.long),
            "position_ids": torch.zeros(shape, dtype=torch.long),
            "attention_mask": torch.zeros(shape, dtype=torch.long),
        }
        for r, members in enumerate(rows):
            at = 0
            for index in members:
                ids = examples[index]["input_ids"]
                end = at + len(ids)
                batch["input_ids"][r, at:end] = torch.tensor(ids)
                batch["labels"][r, at + 1 : end] = torch.tensor(examples[index].get("labels", ids)[1:])
                batch["position_ids"][r, at:end] = torch.arange(len(ids))
                batch["attention_mask"][r, at:end] = 1
                at = end
            batch["position_ids"][r, at:] = torch.arange(shape[1] - at)
        return batch
