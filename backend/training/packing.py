"""Packed Socratic training sequences: a `Dialogue` (student_formats) tokenized once, with a completion
mask over the turns the student is trained to write.

TRL's SFTTrainer takes pre-tokenized rows (`input_ids` + `completion_mask`) and computes the loss on the
masked tokens only, exactly as for prompt/completion rows. The mask is read off the tokenizer's character
offsets on the whole text, so token boundaries are those of the full sequence (what the model sees at
inference), never those of separately tokenized pieces.
"""

from collections.abc import Sequence
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
