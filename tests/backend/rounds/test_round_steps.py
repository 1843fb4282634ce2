"""A resumed round takes each step's job as it finds it: a finished one is skipped, a failed, cancelled or
queued one is started, and one that still runs in its own worker is only waited for."""

import threading

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.jobs import store
from backend.jobs.context import JobContext
from backend.rounds.chain import Round
from backend.rounds.config import RoundConfig
from db.models import Job, JobKind, JobStatus

ROUND = RoundConfig(student="cot", eval_dataset="gsm8k")


def test_a_resumed_round_resumes_each_step_job_by_its_state(engine: Engine, session: Session) -> None:
    """Succeeded: skipped; failed or cancelled: put back and started; queued: started; running (the
    round's own worker died, the step's did not): only waited for, never started twice."""
    chain = Job(kind=JobKind.round)
    session.add(chain)
    session.commit()
    spawned: list[int] = []

    def spawn(job_id: int) -> None:  # the step's worker: it runs the job to its end
        spawned.append(job_id)
        store.mark_finished(engine, job_id=job_id, status=JobStatus.succeeded, message="done")

    steps = Round(JobContext(engine=engine, job_id=chain.id or 0, params={}), ROUND, spawn)
    jobs = {status: Job(kind=JobKind.generate, status=status) for status in JobStatus}
    session.add_all(jobs.values())
    session.commit()
    for status in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled, JobStatus.queued):
        steps._run_step(1, "the student samples", jobs[status], lambda s: pytest.fail("started anew"))
    assert spawned == [jobs[s].id for s in (JobStatus.failed, JobStatus.cancelled, JobStatus.queued)]
    running = jobs[JobStatus.running]

    def finish() -> None:  # the step's own worker, still running, ends it
        store.mark_finished(engine, job_id=running.id or 0, status=JobStatus.succeeded)

    finisher = threading.Timer(0.2, finish)
    finisher.start()
    steps._run_step(1, "the student samples", running, lambda s: pytest.fail("started anew"))
    assert running.id not in spawned


def test_the_rounds_message_says_what_was_kept_and_the_paired_test_with_intervals() -> None:
    from backend.rounds.chain import round_message

    result = {"kept": {"samples": 8, "correct": 3, "kept": 2, "repeats": 1, "questions": 4,
                       "kept_per_question": {0: 2, 1: 2}},
              "set_id": 7, "checkpoint_id": 9, "n": 50, "before": 5, "after": 9,
              "before_ci": [0.043, 0.214], "after_ci": [0.098, 0.308], "wins": 6, "losses": 2,
              "p_value": 0.289}  # fmt: skip
    assert round_message(result) == (
        "kept 2 of 8 samples (3 correct; 1 repeat reasoning already in the set) for 4 questions "
        "(2 kept none, 2 kept 1); new set #7, checkpoint "
        "#9. Before 10.0% (5/50, 95% CI 4.3%-21.4%), after 18.0% (9/50, 95% CI 9.8%-30.8%), exact McNemar "
        "p = 0.289 (+6/-2)."
    )
    clean = {"n": 20, "before": 1, "after": 3, "before_ci": [0.009, 0.236], "after_ci": [0.052, 0.36],
             "wins": 2, "losses": 0, "p_value": 0.5}  # fmt: skip
    assert round_message(result | {"clean": clean}).endswith(
        "(+6/-2). On the 20 of 50 problems no student had seen in training: before 5.0% (1/20, 95% CI "
        "0.9%-23.6%), after 15.0% (3/20, 95% CI 5.2%-36.0%), exact McNemar p = 0.5 (+2/-0)."
    )


def test_a_round_samples_all_its_questions_or_the_same_seeded_part_of_them() -> None:
    from backend.rounds.chain import sampled_questions

    ids = [9, 3, 3, 7, 1, 5, 8, 2]  # a set may hold several rationales of one question
    assert sampled_questions(ids, ROUND) == [1, 2, 3, 5, 7, 8, 9]
    assert sampled_questions(ids, ROUND.model_copy(update={"questions": 50})) == [1, 2, 3, 5, 7, 8, 9]
    part = ROUND.model_copy(update={"questions": 3})
    drawn = sampled_questions(ids, part)
    assert len(drawn) == 3 and drawn == sorted(drawn) and set(drawn) <= set(ids)
    assert sampled_questions(list(reversed(ids)), part) == drawn  # a resumed round draws the same ones
    draws = {tuple(sampled_questions(ids, part.model_copy(update={"seed": seed}))) for seed in range(20)}
    assert len(draws) > 1  # the seed draws, not the set's order


def test_a_round_refuses_a_part_of_no_questions() -> None:
    with pytest.raises(ValueError, match="questions must be >= 1"):
        RoundConfig(student="cot", eval_dataset="gsm8k", questions=0)
