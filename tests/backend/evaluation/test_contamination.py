"""The contamination check: masked n-gram overlap, the training problems a checkpoint inherits (through its
set, and through a checkpoint it was trained from), the flag on each trace and the clean-subset summary."""

from pathlib import Path

from sqlmodel import Session

from backend.evaluation.config import EvalConfig
from backend.evaluation.contamination import (
    MIN_SHARED,
    NAME,
    NUMBER,
    ContaminationCheck,
    OverlapIndex,
    masked_words,
    training_questions,
    training_set_ids,
)
from backend.evaluation.job import eval_traces, start_evaluation, trace_row
from backend.evaluation.summary import summarise
from backend.evaluation.traces import Trace
from backend.jobs import runner, store
from db.models import EvalRun, EvalTrace, JobStatus, ModelCheckpoint, Problem, StudentKind, TrainingRun
from tests.backend.training.frozen_set import make_frozen_set, make_problems
from tests.factories import make_dataset, make_problem

SOURCE = (
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for "
    "her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh "
    "duck egg. How much in dollars does she make every day at the farmers' market?"
)
SAME_TEMPLATE = (
    "Olivia's hens lay 21 eggs per day. She eats 2 for breakfast every morning and bakes muffins for her "
    "friends every day with 6. She sells the remainder at the farmers' market daily for $3 per fresh duck "
    "egg. How much in dollars does she make every day at the farmers' market? Give the result as your "
    "final answer."
)
UNRELATED = (
    "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total does it take?"
)


def test_masking_drops_numbers_names_and_punctuation() -> None:
    assert masked_words("Then Mark gave Sue 3,000 apples, and twelve pears!") == [
        "then", NAME, "gave", NAME, NUMBER, "apples", "and", NUMBER, "pears"
    ]  # fmt: skip
    curly = "Janet\u2019s ducks lay 16 eggs."  # GSM8K's own apostrophe
    assert masked_words(curly)[:2] == [NAME, "ducks"]  # a name opens the sentence


def test_the_same_template_with_other_numbers_and_names_is_flagged_and_an_unrelated_question_is_not() -> None:
    index = OverlapIndex([SAME_TEMPLATE, UNRELATED])
    assert index.overlap(SOURCE).share > 0.9 and index.overlap(SOURCE).best == 0
    stranger = OverlapIndex([UNRELATED])
    assert stranger.overlap(SOURCE).share < 0.2
    check = ContaminationCheck(frozenset(), index)
    assert check.flag(None, SOURCE)[0] is True
    assert ContaminationCheck(frozenset(), stranger).flag(None, SOURCE) == (False, 0.0)


def test_a_short_question_sharing_only_generic_phrasing_is_not_flagged_but_one_contained_whole_is() -> None:
    """GSM8K test row 167 against train row 407: two different age puzzles whose 11 shared grams are
    generic phrasing ("is twice as old as", "how old"), 55% of the test question's: under the floor of
    shared grams. A question shorter than the floor is flagged when every gram is in one question."""
    test_row = (
        "Seth is twice as old as Brooke. In 2 years, the sum of their ages will be 28. How old is Seth?"
    )
    train_row = "Eustace is twice as old as Milford. In 3 years, he will be 39. How old will Milford be?"
    overlap = OverlapIndex([train_row]).overlap(test_row)
    assert (overlap.shared, overlap.grams, overlap.share) == (11, 20, 0.55)
    assert overlap.shared < MIN_SHARED and not overlap.seen()
    assert ContaminationCheck(frozenset(), OverlapIndex([train_row])).flag(None, test_row) == (False, 0.55)
    short = "Tom is twice as old as Ann. How old is Ann?"
    contained = OverlapIndex(["Tom is twice as old as Ann. How old is Ann if Tom is 8? Answer in years."])
    assert contained.overlap(short).grams < MIN_SHARED and contained.overlap(short).seen()
    assert not OverlapIndex([train_row]).overlap(short).seen()


def trained_checkpoint(
    session: Session, set_id: int, name: str, base_model: str = "default"
) -> ModelCheckpoint:
    run = TrainingRun(name=name, set_id=set_id, student_kind=StudentKind.cot, base_model=base_model)
    session.add(run)
    session.commit()
    checkpoint = ModelCheckpoint(
        name=name, role=StudentKind.cot, path=f"/models/{name}", base_model=base_model, training_run_id=run.id
    )
    session.add(checkpoint)
    session.commit()
    session.refresh(checkpoint)
    return checkpoint


def test_a_student_inherits_its_sets_training_problems_through_the_checkpoint_it_started_from(
    session: Session,
) -> None:
    first_set, second_set = make_frozen_set(session, name="first"), make_frozen_set(session, name="second")
    assert first_set.id is not None and second_set.id is not None
    first = trained_checkpoint(session, first_set.id, "first-cot")
    second = trained_checkpoint(session, second_set.id, "second-cot", base_model=first.path)
    assert first.id is not None and second.id is not None
    assert training_set_ids(session, checkpoint_ids=[first.id]) == {first_set.id}
    assert training_set_ids(session, checkpoint_ids=[second.id]) == {first_set.id, second_set.id}
    questions = training_questions(session, checkpoint_ids=[second.id])
    assert len(questions) == 6  # three toy problems in each set's own dataset
    check = ContaminationCheck.for_models(session, [{"checkpoint_id": second.id}])
    assert check is not None and check.problem_ids == frozenset(questions)
    reworded = "Sam has 4 boxes of 7 pens. He gives away 2 pens. How many pens does he have?"
    assert check.flag(None, reworded)[0] is True
    assert check.flag(None, UNRELATED)[0] is False
    assert ContaminationCheck.for_models(session, [{"backend": "openai", "model": "x"}]) is None


def test_trace_rows_carry_the_flag(session: Session) -> None:
    problems = make_problems(session, name="toy")
    check = ContaminationCheck(frozenset({problems[0].id or 0}), OverlapIndex([UNRELATED]))
    seen = trace_row(1, problems[0], Trace(final_answer="11"), "numeric", check)
    unseen = trace_row(1, problems[1], Trace(final_answer="3"), "numeric", check)
    unchecked = trace_row(1, problems[2], Trace(final_answer="3"), "numeric")
    assert (seen.seen_in_training, seen.overlap) == (True, 1.0)
    assert unseen.seen_in_training is False and unseen.overlap is not None and unseen.overlap < 0.4
    assert (unchecked.seen_in_training, unchecked.overlap) == (None, None)


def _run_with_traces(session: Session, flags: list[tuple[bool, bool]], training: int | None) -> int:
    """An evaluation run whose traces are (correct, seen_in_training) pairs."""
    dataset = make_dataset(session, name=f"d{len(flags)}-{training}")
    run = EvalRun(name="r", method="cot", training_problems=training)
    session.add(run)
    session.commit()
    assert run.id is not None
    for index, (correct, seen) in enumerate(flags):
        problem: Problem = make_problem(session, dataset, external_id=f"q{index}")
        assert problem.id is not None
        session.add(
            EvalTrace(eval_run_id=run.id, problem_id=problem.id, correct=correct, seen_in_training=seen)
        )
    session.commit()
    return run.id


def test_summaries_report_clean_subset_accuracy_and_the_number_flagged(session: Session) -> None:
    flags = [(True, True), (True, True), (True, False), (False, False), (False, False), (False, True)]
    block = summarise(session, eval_run_id=_run_with_traces(session, flags, 600), price_per_1k_tokens=0)[
        "contamination"
    ]
    assert (block["n_flagged"], block["n_clean"], block["clean_correct"]) == (3, 3, 1)
    assert block["clean_accuracy"] == 0.3333 and block["accuracy"] == 0.5 and not block["all_seen"]
    expected = "3 of 6 problems were seen in training; on the 3 unseen, accuracy is 33.3%"
    assert block["note"].startswith(expected)
    low, high = block["clean_ci"]
    assert 0 < low < 0.3333 < high < 1


def test_an_evaluation_whose_problems_were_all_seen_says_so(session: Session) -> None:
    run_id = _run_with_traces(session, [(True, True), (False, True)], 10)
    all_seen = summarise(session, eval_run_id=run_id, price_per_1k_tokens=0)["contamination"]
    assert all_seen["all_seen"] and all_seen["n_clean"] == 0 and all_seen["clean_ci"] is None
    assert all_seen["note"].startswith("All 2 problems were seen in training")
    teacher = summarise(
        session,
        eval_run_id=_run_with_traces(session, [(True, None)], None),
        price_per_1k_tokens=0,  # type: ignore[list-item]
    )["contamination"]
    assert teacher["n_checked"] == 0 and teacher["note"].startswith("Not checked for contamination")


def test_an_evaluation_job_flags_the_problems_its_student_was_trained_on(
    engine, session: Session, tiny_gpt2: Path
) -> None:  # type: ignore[no-untyped-def]
    trained = make_frozen_set(session, name="toy-set")  # its problems are dataset "toy-set-data"
    assert trained.id is not None
    student = trained_checkpoint(session, trained.id, "cot-student")
    student.path = str(tiny_gpt2)
    session.add(student)
    session.commit()
    config = EvalConfig(
        method="cot", solver={"checkpoint_id": student.id}, dataset_name="toy-set-data", max_tokens=4
    )
    job, eval_run = start_evaluation(session, config=config)
    assert job.id is not None and eval_run.id is not None
    status = runner.run_job(engine, job.id)
    session.expire_all()
    assert status == JobStatus.succeeded, store.get_job(session, job_id=job.id).error
    traces = eval_traces(session, eval_run_id=eval_run.id)
    assert [trace.seen_in_training for trace in traces] == [True, True, True]
    finished = session.get(EvalRun, eval_run.id)
    assert finished is not None and finished.training_problems == 3
    assert finished.summary["contamination"]["all_seen"] is True
