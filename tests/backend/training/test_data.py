from collections import Counter

import pytest

from backend.curation import CuratedRecord, create_set, freeze, frozen_records
from backend.student_formats import END_MARKER, StepText, examples_for
from backend.training.config import FilterPolicy
from backend.training.data import build_examples, is_correct, select_records, to_dataset
from db.models import StudentKind
from tests.backend.training.frozen_set import add_sample, make_frozen_set, make_problems

STEPS = [
    StepText("How many pens?", "3 * 5 = <<3*5=15>>15."),
    StepText("How many left?", "15 - 4 = <<15-4=11>>11."),
]


def record(rationale_id: int, problem_id: int, final_answer: str, gold: str | None = "11") -> CuratedRecord:
    return CuratedRecord(
        rationale_id=rationale_id,
        revision_number=1,
        problem_id=problem_id,
        question=f"Question {problem_id}?",
        gold_answer=gold,
        answer_type="numeric",
        steps=STEPS,
        final_answer=final_answer,
    )


# Two questions: question 1 has two correct samples and one wrong; question 2 one correct, one wrong.
RECORDS = [
    record(1, 1, "11"),
    record(2, 1, "12"),
    record(3, 1, "11.0"),
    record(4, 2, "11"),
    record(5, 2, "$7"),
]


def ids(records: list[CuratedRecord]) -> list[int]:
    return [r.rationale_id for r in records]


def test_correctness_compares_numbers_and_keeps_records_without_gold():
    assert is_correct(record(1, 1, "11.0")) and not is_correct(record(1, 1, "12"))
    assert is_correct(record(1, 1, "anything", gold=None))


def test_filter_policies():
    assert ids(select_records(RECORDS, policy=FilterPolicy.all)) == [1, 2, 3, 4, 5]
    assert ids(select_records(RECORDS, policy=FilterPolicy.all_correct)) == [1, 3, 4]
    assert ids(select_records(RECORDS, policy=FilterPolicy.one_correct_per_question)) == [1, 4]


def test_balanced_policy_sees_each_question_once_per_epoch_with_varying_rationales():
    chosen = select_records(RECORDS, policy=FilterPolicy.balanced, epochs=20, seed=1)
    assert len(chosen) == 40
    for epoch in range(20):  # each epoch block holds both questions exactly once
        assert sorted(r.problem_id for r in chosen[2 * epoch : 2 * epoch + 2]) == [1, 2]
    per_rationale = Counter(ids(chosen))
    assert set(per_rationale) == {1, 3, 4} and per_rationale[4] == 20  # wrong ones never drawn
    assert per_rationale[1] > 0 and per_rationale[3] > 0  # both correct samples of question 1 are used
    assert ids(select_records(RECORDS, policy=FilterPolicy.balanced, epochs=20, seed=1)) == ids(chosen)


def test_examples_come_from_the_shared_formats():
    examples = build_examples(RECORDS[:1], kind=StudentKind.decomposer, policy=FilterPolicy.all)
    assert examples == examples_for(StudentKind.decomposer, "Question 1?", STEPS, "11")
    assert examples[-1].completion == f" {END_MARKER}"
    dataset = to_dataset(examples)
    assert dataset.column_names == ["prompt", "completion"] and len(dataset) == 3


def test_no_surviving_rationale_is_a_clear_error():
    with pytest.raises(ValueError, match="no rationale of the set passes the all_correct"):
        build_examples([RECORDS[1]], kind=StudentKind.cot, policy=FilterPolicy.all_correct)


def test_socratic_kind_on_rationales_without_sub_questions_names_them(session):
    curated_set = make_frozen_set(session, socratic=False)
    assert curated_set.id is not None
    records = frozen_records(session, set_id=curated_set.id)
    assert build_examples(records, kind=StudentKind.cot, policy=FilterPolicy.all)  # fine for CoT
    with pytest.raises(ValueError, match=r"3 rationale\(s\) have steps without sub-questions.*decomposer"):
        build_examples(records, kind=StudentKind.decomposer, policy=FilterPolicy.all)


def test_frozen_multi_sample_set_keeps_correct_samples(session):
    problem = make_problems(session)[0]
    good = add_sample(session, problem, [("How many?", "It is 11.")], "11", sample_index=0)
    bad = add_sample(session, problem, [("How many?", "It is 10.")], "10", sample_index=1)
    curated_set = create_set(session, name="multi", picks=[good, bad])
    assert curated_set.id is not None
    freeze(session, set_id=curated_set.id)
    records = frozen_records(session, set_id=curated_set.id)
    assert ids(select_records(records, policy=FilterPolicy.all_correct)) == [good]
