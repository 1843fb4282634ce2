"""Training data: frozen records -> SCoTD filter policy -> prompt/completion examples -> a `datasets.Dataset`.

The text of every example comes from `backend.student_formats.examples_for`, the single source of the
prompt formats, so inference prompts are byte-identical to the ones a student was trained on.
"""

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from backend.answers import answers_match
from backend.curation import CuratedRecord
from backend.student_formats import Example, MissingSubQuestions, examples_for
from backend.training.config import FilterPolicy
from db.models import StudentKind

if TYPE_CHECKING:
    from datasets import Dataset


def is_correct(record: CuratedRecord) -> bool:
    """A record is correct when its final answer matches the gold; without a gold it cannot be refuted."""
    if record.gold_answer is None:
        return True
    return answers_match(record.final_answer, record.gold_answer, record.answer_type)


def _by_question(records: Sequence[CuratedRecord]) -> dict[int, list[CuratedRecord]]:
    groups: dict[int, list[CuratedRecord]] = {}
    for record in records:
        groups.setdefault(record.problem_id, []).append(record)
    return groups


def select_records(
    records: Sequence[CuratedRecord], *, policy: FilterPolicy, epochs: int = 1, seed: int = 0
) -> list[CuratedRecord]:
    """The records one training run sees, in order; `balanced` yields `epochs` blocks of one per question."""
    if policy == FilterPolicy.all:
        return list(records)
    correct = [record for record in records if is_correct(record)]
    if policy == FilterPolicy.all_correct:
        return correct
    groups = _by_question(correct)
    if policy == FilterPolicy.one_correct_per_question:
        return [group[0] for group in groups.values()]
    # balanced: every question once per epoch, each time with an independently drawn correct rationale.
    rng = random.Random(seed)
    return [rng.choice(group) for _ in range(max(1, epochs)) for group in groups.values()]


def records_to_examples(records: Sequence[CuratedRecord], *, kind: StudentKind) -> list[Example]:
    """Every example the records yield; a Socratic kind over steps without sub-questions is an error."""
    examples: list[Example] = []
    missing: list[int] = []
    for record in records:
        try:
            examples.extend(examples_for(kind, record.question, record.steps, record.final_answer))
        except MissingSubQuestions:
            missing.append(record.rationale_id)
    if missing:
        shown = ", ".join(str(rid) for rid in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(
            f"{len(missing)} rationale(s) have steps without sub-questions, which a {kind} student needs "
            f"(rationale ids: {shown}); curate a set of Socratic rationales or pick another kind"
        )
    return examples


def build_examples(
    records: Sequence[CuratedRecord],
    *,
    kind: StudentKind,
    policy: FilterPolicy,
    epochs: int = 1,
    seed: int = 0,
) -> list[Example]:
    selected = select_records(records, policy=policy, epochs=epochs, seed=seed)
    if not selected:
        raise ValueError(
            f"no rationale of the set passes the {policy} filter policy ({len(records)} in the set); "
            "try --filter-policy all"
        )
    return records_to_examples(selected, kind=kind)


def to_dataset(examples: Sequence[Example]) -> "Dataset":
    """A prompt/completion dataset: TRL's SFTTrainer computes the loss on completion tokens only."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [example.prompt for example in examples],
            "completion": [example.completion for example in examples],
        }
    )
