"""Training data: frozen records -> SCoTD filter policy -> prompt/completion examples -> a `datasets.Dataset`.

The text of every example comes from `backend.student_formats.examples_for`, the single source of the
prompt formats, so inference prompts are byte-identical to the ones a student was trained on.
"""

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend.checks.answers import answers_match
from backend.checks.subquestion_checks import rationale_issues
from backend.sets.curation import CuratedRecord
from backend.student_formats import Dialogue, Example, dialogue_for, examples_for
from backend.training.config import FilterPolicy
from db.models import StudentKind

if TYPE_CHECKING:
    from datasets import Dataset


# Why a rationale makes no training example (the keys exports and training runs report counts under).
NO_FINAL_ANSWER = "no final answer (cut off, unparseable or decompose-only)"
WRONG_ANSWER = "final answer differs from the gold answer"
NO_SUB_QUESTIONS = "steps without sub-questions"
EMPTY_STEP = "steps without text (decompose-only)"
SOCRATIC_KINDS = (StudentKind.decomposer, StudentKind.solver, StudentKind.unified, StudentKind.decompose_only)
# Kinds whose targets hold the steps' text, or the final answer.
STEP_TEXT_KINDS = (StudentKind.cot, StudentKind.solver, StudentKind.unified)
ANSWER_KINDS = (StudentKind.cot, StudentKind.answer_only)
# Kinds that learn to ask sub-questions turn by turn (their flagged turns can stay out of the loss).
ASKING_KINDS = (StudentKind.decomposer, StudentKind.unified)


@dataclass
class ExampleBuild:
    """The examples a set of rationales yields for one student kind, and the rationales it dropped."""

    examples: list[Example] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> rationales
    # Socratic kinds: the same examples packed one sequence per rationale (what causal students train on).
    dialogues: list[Dialogue] = field(default_factory=list)
    # Sub-questions kept as context but not trained on (flagged by backend.checks.subquestion_checks).
    untrained_sub_questions: int = 0

    def describe_dropped(self) -> str:
        """'dropped 3 rationales: 2 no final answer (...), 1 steps without sub-questions'; '' if none."""
        if not self.dropped:
            return ""
        reasons = ", ".join(f"{count:,} {reason}" for reason, count in self.dropped.most_common())
        return f"dropped {self.dropped.total():,} rationales: {reasons}"


def has_final_answer(record: CuratedRecord) -> bool:
    return bool(record.final_answer.strip())


def is_correct(record: CuratedRecord) -> bool:
    """Correct: a stated final answer that matches the gold. A rationale that states none (cut off,
    unparseable, decompose-only) is never correct; without a gold a stated answer cannot be refuted."""
    if not has_final_answer(record):
        return False
    if record.gold_answer is None:
        return True
    return answers_match(record.final_answer, record.gold_answer, record.answer_type)


def unusable_reason(record: CuratedRecord, kind: StudentKind) -> str | None:
    """Why this rationale cannot make `kind` examples, or None when it can."""
    if kind in ANSWER_KINDS and not has_final_answer(record):
        return NO_FINAL_ANSWER
    if kind in SOCRATIC_KINDS and (
        not record.steps or any(not (step.sub_question or "").strip() for step in record.steps)
    ):
        return NO_SUB_QUESTIONS
    if kind in STEP_TEXT_KINDS and any(not step.text.strip() for step in record.steps):
        return EMPTY_STEP
    return None


def flagged_steps(record: CuratedRecord) -> set[int]:
    """Indices of the steps whose sub-question the checks flag (repeat, states its result, ...)."""
    return {index for index, issues in enumerate(rationale_issues(record.question, record.steps)) if issues}


def examples_from_records(
    records: Sequence[CuratedRecord], *, kind: StudentKind, skip_flagged_sub_questions: bool = False
) -> ExampleBuild:
    """Every example the usable records yield for `kind`; the others are counted by reason, never padded
    with the gold answer (that would teach a student to state it after an unfinished rationale).

    `skip_flagged_sub_questions`: an asking student does not learn the sub-questions the checks flag, yet
    keeps their rationales. Dropping every rationale with a flag would keep the short ones (each step is
    another chance of one), and a decomposer trained on those learns to stop early."""
    build = ExampleBuild()
    for record in records:
        reason = unusable_reason(record, kind)
        if reason is not None:
            build.dropped[reason] += 1
            continue
        untrained = flagged_steps(record) if skip_flagged_sub_questions and kind in ASKING_KINDS else set()
        build.untrained_sub_questions += len(untrained)
        build.examples.extend(
            examples_for(kind, record.question, record.steps, record.final_answer, untrained)
        )
        dialogue = dialogue_for(kind, record.question, record.steps, untrained)
        if dialogue is not None:
            build.dialogues.append(dialogue)
    return build


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


def correctness_drops(records: Sequence[CuratedRecord]) -> Counter[str]:
    """Why the correctness policies drop what they drop: no stated answer, or a wrong one."""
    return Counter(
        NO_FINAL_ANSWER if not has_final_answer(record) else WRONG_ANSWER
        for record in records
        if not is_correct(record)
    )


def build_training_examples(
    records: Sequence[CuratedRecord],
    *,
    kind: StudentKind,
    policy: FilterPolicy,
    epochs: int = 1,
    seed: int = 0,
    skip_flagged_sub_questions: bool = False,
) -> ExampleBuild:
    """The examples one training run sees and what was dropped on the way (filter policy, then format)."""
    selected = select_records(records, policy=policy, epochs=epochs, seed=seed)
    if not selected:
        raise ValueError(
            f"no rationale of the set passes the {policy} filter policy ({len(records)} in the set); "
            "try --filter-policy all"
        )
    build = examples_from_records(selected, kind=kind, skip_flagged_sub_questions=skip_flagged_sub_questions)
    if policy != FilterPolicy.all:
        build.dropped.update(correctness_drops(records))
    if not build.examples:
        shown = ", ".join(f"{count} rationale(s) have {reason}" for reason, count in build.dropped.items())
        raise ValueError(f"no {kind} example can be made from the set: {shown}")
    return build


def to_dataset(examples: Sequence[Example]) -> "Dataset":
    """A prompt/completion dataset: TRL's SFTTrainer computes the loss on completion tokens only."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [example.prompt for example in examples],
            "completion": [example.completion for example in examples],
        }
    )
