"""Which of a round's samples join the next set: those that reach the gold answer and whose every
arithmetic check passes, under the round's keep policy."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.sets.curation import CuratedRecord
from backend.student_formats import cot_completion
from backend.teacher.parsing import reasoning_key
from backend.training.config import FilterPolicy
from db.models import Rationale, Step, Verdict


@dataclass(frozen=True)
class Sample:
    rationale_id: int
    problem_id: int
    correct: bool  # the stated answer matches the gold answer
    arithmetic_ok: bool  # no `a op b = c` or <<a op b=c>> in its steps is wrong
    reasoning: str = ""  # backend.teacher.parsing.reasoning_key of its text


def kept_samples(samples: Sequence[Sample], policy: FilterPolicy) -> list[int]:
    """The rationale ids that join the set, in the samples' order. A correct answer reached through a
    wrong sum is not kept: the student would learn the wrong sum."""
    good = [sample for sample in samples if sample.correct and sample.arithmetic_ok]
    if policy == FilterPolicy.one_correct_per_question:
        first: dict[int, int] = {}
        for sample in good:
            first.setdefault(sample.problem_id, sample.rationale_id)
        return list(first.values())
    if policy in (FilterPolicy.all_correct, FilterPolicy.balanced):
        return [sample.rationale_id for sample in good]
    raise ValueError(
        f"a round keeps samples under one_correct_per_question, all_correct or balanced, not {policy}"
    )


def load_samples(session: Session, run_ids: Sequence[int]) -> list[Sample]:
    """The samples the round's teacher runs stored, by run then problem then sample."""
    rationales = session.exec(
        select(Rationale)
        .where(col(Rationale.run_id).in_(list(run_ids)))
        .order_by(col(Rationale.run_id), col(Rationale.problem_id), col(Rationale.sample_index))
    ).all()
    ids = [rationale.id for rationale in rationales]
    checks = session.exec(
        select(Step.rationale_id, Step.expressions).where(col(Step.rationale_id).in_(ids))
    ).all()
    wrong_sums = {rid for rid, expressions in checks if any(c.get("ok") is False for c in expressions or [])}
    return [
        Sample(
            r.id or 0,
            r.problem_id,
            r.verdict == Verdict.correct,
            (r.id or 0) not in wrong_sums,
            reasoning_key(r.raw_text),
        )
        for r in rationales
    ]


def new_reasoning(kept: Sequence[Sample], in_set: dict[int, set[str]]) -> list[Sample]:
    """The kept samples that reason otherwise than every rationale of their question already in the set
    and every earlier kept sample (`in_set`: problem id -> reasoning keys). A student that has learned its
    set by heart writes its gold rationales back: such copies weigh a question more without adding a
    way to solve it, which is what SCoTD's many samples are for (RFT keeps only distinct ones)."""
    seen = {problem: set(keys) for problem, keys in in_set.items()}
    fresh = []
    for sample in kept:
        keys = seen.setdefault(sample.problem_id, set())
        if sample.reasoning not in keys:
            fresh.append(sample)
        keys.add(sample.reasoning)
    return fresh


def reasoning_in_set(records: Sequence[CuratedRecord]) -> dict[int, set[str]]:
    """Problem id -> the reasoning keys of a frozen set's rationales, as the CoT student learned them
    (their pinned steps, annotators' edits included)."""
    keys: dict[int, set[str]] = {}
    for record in records:
        text = cot_completion(record.steps, record.final_answer or record.gold_answer or "")
        keys.setdefault(record.problem_id, set()).add(reasoning_key(text))
    return keys


@dataclass(frozen=True)
class Selection:
    """A round's samples sorted by what the keep step does with them."""

    passed: list[Sample]  # correct, sums right, and kept by the policy
    fresh: list[Sample]  # those of `passed` that reason otherwise than the set and earlier samples

    @property
    def repeats(self) -> int:
        return len(self.passed) - len(self.fresh)


def select_kept(
    samples: Sequence[Sample], policy: FilterPolicy, records: Sequence[CuratedRecord]
) -> Selection:
    """What the keep policy passes of `samples`, and which of those add reasoning to the set `records`.
    The round freezes one of the two (`distinct` picks `fresh`); the benchmark counts both."""
    kept_ids = set(kept_samples(samples, policy))
    passed = [sample for sample in samples if sample.rationale_id in kept_ids]
    return Selection(passed, new_reasoning(passed, reasoning_in_set(records)))


def kept_per_question(kept_problems: Sequence[int], questions: Sequence[int]) -> dict[int, int]:
    """How many questions got 0, 1, 2, ... kept samples (the round page's histogram)."""
    per_question = Counter(kept_problems)
    return dict(sorted(Counter(per_question.get(question, 0) for question in questions).items()))
