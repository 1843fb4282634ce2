"""The generation job on a tiny Llama: stored results, resume after a crash, cancel, failed requests."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from backend.jobs import store
from backend.jobs.context import JobContext
from backend.jobs.runner import run_job
from backend.model_ref import open_backend
from backend.teacher import choice
from backend.teacher import job as job_module
from backend.teacher.base import Completion, GenerationParams
from backend.teacher.job import GenerationConfig, start_generation
from db.models import (
    Job,
    JobStatus,
    ModelCheckpoint,
    Problem,
    Rationale,
    Revision,
    Step,
    StudentKind,
    TeacherRun,
    Verdict,
)
from tests.factories import make_dataset, make_problem

# One short example keeps the tiny model's prompts (and the tests) short.
SHORT_FEW_SHOT = [
    {"question": "1 + 1?", "steps": [{"sub_question": "Sum?", "text": "1 + 1 = 2."}], "answer": "2"}
]
GOLD_STEPS = [
    {"text": "Tom has 3 * 5 = <<3*5=15>>15 pens."},
    {"text": "He keeps 15 - 5 = <<15-5=10>>10 pens."},
]


class SimulatedCrash(BaseException):
    """Like a killed process: not an Exception, so nothing records it as a failed request."""


class FaultyTeacher:
    """The real tiny-model backend, with a fault injected on a chosen call or problem."""

    def __init__(self, inner: Any, *, crash_on_call: int | None = None, fail_text: str | None = None) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model
        self.crash_on_call, self.fail_text, self.calls = crash_on_call, fail_text, 0
        self.on_call: Any = None  # called with the call's number before it generates
        self.after_call: Any = None  # and after

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        self.calls += 1
        if self.on_call:
            self.on_call(self.calls)
        if self.calls == self.crash_on_call:
            raise SimulatedCrash
        if self.fail_text and any(self.fail_text in prompt for prompt in prompts):
            raise RuntimeError("HTTP 500 from the teacher server")
        completions = self.inner.generate(prompts, params)
        if self.after_call:
            self.after_call(self.calls)
        return completions

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def dataset_name(session: Session) -> str:
    dataset = make_dataset(session, name="toy")
    for index in range(5):
        make_problem(
            session,
            dataset,
            external_id=f"p{index}",
            question=f"Tom has 3 boxes of 5 pens and gives {index} away. How many pens does he keep?",
            gold_steps=GOLD_STEPS,
            num_gold_steps=2,
        )
    return dataset.name


def use_teacher(monkeypatch: pytest.MonkeyPatch, tiny_llama: Path, **faults: Any) -> FaultyTeacher:
    teacher = FaultyTeacher(open_backend("transformers", str(tiny_llama)), **faults)
    monkeypatch.setattr(job_module, "open_backend", lambda backend, model, **options: teacher)
    return teacher


def config(dataset_name: str, **overrides: Any) -> GenerationConfig:
    values: dict[str, Any] = {
        "model": "default",  # the worker's backend is replaced by use_teacher
        "dataset": dataset_name,
        "max_tokens": 8,
        "batch_size": 2,
        "few_shot": SHORT_FEW_SHOT,
    }
    values.update(overrides)
    return GenerationConfig(**values)


def rationales(session: Session, job: Job) -> list[Rationale]:
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    return list(session.exec(select(Rationale).where(Rationale.run_id == run.id).order_by(col(Rationale.id))))


def test_start_generation_stores_the_settings_but_no_secret(session: Session, dataset_name: str) -> None:
    options = {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "MY_KEY"}
    openai = config(dataset_name, mode="socratic", backend="openai", backend_options=options)
    with pytest.raises(ValueError, match="'base_url' is not allowed: teacher endpoints are configured"):
        start_generation(session, config=openai)  # the page and a login-on CLI: endpoints by name only
    assert session.exec(select(func.count()).select_from(TeacherRun)).one() == 0
    job = start_generation(session, config=openai, free_endpoint=True)  # the CLI of a login-free install
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    assert job.params == {"run_id": run.id, "batch_size": 2, "backend_options": options}
    assert run.stop == ["\n\n", "\nProblem:"] and run.max_tokens == 8
    assert "{question}" in run.prompt_template and run.few_shot == SHORT_FEW_SHOT
    assert run.problem_filter == {"dataset_id": run.dataset_id}
    with pytest.raises(ValueError, match="'api_key' is not allowed: a key is never stored"):
        start_generation(
            session, config=config(dataset_name, backend_options={"api_key": "sk-secret"}), free_endpoint=True
        )


def test_a_checkpoint_named_as_the_model_is_stored_as_its_folder(
    session: Session, dataset_name: str, tmp_path: Path
) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    checkpoint = ModelCheckpoint(name="my-student", role=StudentKind.cot, path=str(folder))
    session.add(checkpoint)
    session.commit()
    for reference in ("my-student", str(checkpoint.id)):
        job = start_generation(session, config=config(dataset_name, model=reference))
        run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
        assert run.model == str(folder)  # what the worker opens: never the name, taken for a hub id
    assert start_generation(session, config=config(dataset_name)).params["run_id"]  # `default` stays


def test_a_run_with_the_calculator_writes_every_text_through_it(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, session: Session, dataset_name: str, tiny_llama: Path
) -> None:
    teacher = use_teacher(monkeypatch, tiny_llama)
    job = start_generation(session, config=config(dataset_name, calculator=True, samples=2, temperature=1.0))
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    assert run.calculator
    seen: list[Any] = []
    real = job_module.WithCalculator
    monkeypatch.setattr(job_module, "WithCalculator", lambda inner: seen.append(inner) or real(inner))
    assert run_job(engine, job.id or 0) == JobStatus.succeeded
    assert seen == [teacher]  # the worker wrapped the opened backend
    assert len(rationales(session, job)) == 5 * 2


def test_a_model_that_names_nothing_here_is_refused_before_anything_is_stored(
    session: Session, dataset_name: str
) -> None:
    with pytest.raises(ValueError, match=r"'HuggingFaceTB/SmolLM2-1\.7B' is not a model you can use here"):
        start_generation(session, config=config(dataset_name, model="HuggingFaceTB/SmolLM2-1.7B"))
    assert session.exec(select(func.count()).select_from(TeacherRun)).one() == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dataset": "nope"}, "no dataset named 'nope'"),
        ({"problem_filter": job_module.ProblemFilter(search="zebra")}, "selects no problems"),
        ({"mode": "poem"}, "mode must be one of"),
        ({"backend": "llamacpp"}, "backend must be one of"),
        ({"samples": 0}, "n must be at least 1"),
        ({"template": "{question} {oops}"}, "unknown placeholder"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_stored(
    session: Session, dataset_name: str, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        start_generation(session, config=config(dataset_name, **overrides))
    assert session.exec(select(func.count()).select_from(TeacherRun)).one() == 0


def test_cot_run_stores_every_sample_graded_with_steps_and_totals(
    engine: Engine, session: Session, dataset_name: str, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_teacher(monkeypatch, tiny_llama)
    job = start_generation(
        session, config=config(dataset_name, samples=2, temperature=1.0, price_per_1k_tokens=0.5)
    )
    assert run_job(engine, job.id) == JobStatus.succeeded
    stored = rationales(session, job)
    assert len(stored) == 10
    assert {(r.problem_id, r.sample_index) for r in stored} == {
        (p, k) for p in {r.problem_id for r in stored} for k in (0, 1)
    }
    assert {r.verdict for r in stored} <= {Verdict.correct, Verdict.wrong, Verdict.unparseable}
    assert all(r.current_revision == 1 and r.tokens_out > 0 and r.logprob is not None for r in stored)
    assert session.exec(select(func.count()).select_from(Revision)).one() == 10
    session.expire_all()
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    finished = session.get(Job, job.id)
    assert finished is not None and (finished.done, finished.total) == (5, 5)
    assert run.tokens_in > 0 and run.tokens_out == sum(r.tokens_out for r in stored) and run.wall_seconds > 0
    assert finished.message.startswith("5/5 problems · ") and "tok/s" in finished.message
    assert f"${(run.tokens_in + run.tokens_out) / 1000 * 0.5:.4f}" in finished.message


def test_rationalize_gives_one_sub_question_slot_per_reference_step(
    engine: Engine, session: Session, dataset_name: str, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_teacher(monkeypatch, tiny_llama)
    bare = make_problem(session, make_dataset(session, name="other"), external_id="bare")
    job = start_generation(session, config=config(dataset_name, mode="rationalize", stop=[]))
    assert run_job(engine, job.id) == JobStatus.succeeded
    for rationale in rationales(session, job):
        steps = session.exec(
            select(Step).where(Step.rationale_id == rationale.id).order_by(col(Step.position))
        ).all()
        assert [step.text for step in steps] == [step["text"] for step in GOLD_STEPS]
        assert steps[0].expressions[0]["ok"] is True  # the calculator check of the reference step
        assert rationale.final_answer == "15" and rationale.raw_text.count("\n") == 1
        expected = Verdict.correct if all(step.sub_question for step in steps) else Verdict.unparseable
        assert rationale.verdict == expected
    assert bare.id not in {r.problem_id for r in rationales(session, job)}


def test_problem_without_reference_steps_is_recorded_failed(
    engine: Engine, session: Session, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_teacher(monkeypatch, tiny_llama)
    make_problem(session, make_dataset(session, name="bare"), external_id="bare")
    job = start_generation(session, config=config("bare", mode="rationalize"))
    assert run_job(engine, job.id) == JobStatus.succeeded
    [failed] = rationales(session, job)
    assert failed.verdict == Verdict.failed and "no reference solution steps" in (failed.error or "")


def test_failed_request_is_recorded_on_its_problem_and_the_run_goes_on(
    engine: Engine, session: Session, dataset_name: str, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_teacher(monkeypatch, tiny_llama, fail_text="gives 1 away")
    job = start_generation(session, config=config(dataset_name, samples=2, temperature=1.0))
    assert run_job(engine, job.id) == JobStatus.succeeded
    stored = rationales(session, job)
    assert len(stored) == 10
    failed = [r for r in stored if r.verdict == Verdict.failed]
    bad_problem = session.exec(select(Problem).where(Problem.external_id == "p1")).one()
    assert {r.problem_id for r in failed} == {bad_problem.id} and len(failed) == 2
    assert failed[0].error == "RuntimeError: HTTP 500 from the teacher server"


def test_crash_mid_run_then_resume_finishes_without_duplicates(
    engine: Engine, session: Session, dataset_name: str, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_teacher(monkeypatch, tiny_llama, crash_on_call=2)
    job = start_generation(session, config=config(dataset_name, samples=3, temperature=1.0))
    with pytest.raises(SimulatedCrash):
        run_job(engine, job.id)
    first_batch = {(r.id, r.problem_id, r.sample_index) for r in rationales(session, job)}
    assert len(first_batch) == 6  # batch 1 stored whole, batch 2 lost with the crash
    session.expire_all()
    assert store.get_job(session, job_id=job.id).status == JobStatus.failed

    use_teacher(monkeypatch, tiny_llama)
    store.reset_for_resume(session, job_id=job.id)
    assert run_job(engine, job.id) == JobStatus.succeeded
    stored = rationales(session, job)
    slots = [(r.problem_id, r.sample_index) for r in stored]
    assert len(slots) == len(set(slots)) == 15
    assert first_batch <= {(r.id, r.problem_id, r.sample_index) for r in stored}  # kept, not redone
    session.expire_all()
    assert "15 problems" not in store.get_job(session, job_id=job.id).message
    assert store.get_job(session, job_id=job.id).message.startswith("5/5 problems")


@pytest.mark.parametrize("during_decoding", [False, True], ids=["after-the-batch", "during-decoding"])
def test_cancel_stops_the_job_and_resume_completes_what_was_not_stored(
    engine: Engine,
    session: Session,
    dataset_name: str,
    tiny_llama: Path,
    monkeypatch: pytest.MonkeyPatch,
    during_decoding: bool,
) -> None:
    """A cancel that arrives after the first batch decoded keeps that batch (the boundary check stops the
    next); one that arrives as it starts decoding stops it at the next progress write, storing nothing."""
    teacher = use_teacher(monkeypatch, tiny_llama)
    write = JobContext.progress

    def unthrottled(ctx: JobContext, done: int, total: int, message: str = "", **_: bool) -> None:
        write(ctx, done, total, message, force=True)  # the tiny model decodes in well under the throttle

    monkeypatch.setattr(JobContext, "progress", unthrottled)
    job = start_generation(session, config=config(dataset_name, max_tokens=24))
    assert job.id is not None
    job_id = job.id

    def cancel_at_first_call(call: int) -> None:
        if call == 1:
            with Session(engine) as other:
                store.request_cancel(other, job_id=job_id)

    if during_decoding:
        teacher.on_call = cancel_at_first_call
        teacher.after_call = lambda call: pytest.fail("the cancelled batch decoded to its end")
    else:
        teacher.after_call = cancel_at_first_call
    assert run_job(engine, job_id) == JobStatus.cancelled
    assert len(rationales(session, job)) == (0 if during_decoding else 2) and teacher.calls == 1
    use_teacher(monkeypatch, tiny_llama)
    session.expire_all()
    store.reset_for_resume(session, job_id=job_id)
    assert run_job(engine, job_id) == JobStatus.succeeded
    assert len(rationales(session, job)) == 5


def test_greedy_samples_repeat_and_are_marked_duplicates(
    engine: Engine, session: Session, dataset_name: str, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_teacher(monkeypatch, tiny_llama)
    job = start_generation(
        session, config=config(dataset_name, samples=3, problem_filter=job_module.ProblemFilter(limit=1))
    )
    assert run_job(engine, job.id) == JobStatus.succeeded
    assert [r.is_duplicate for r in rationales(session, job)] == [False, True, True]


def test_progress_moves_within_a_batch(
    engine: Engine, session: Session, dataset_name: str, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One batch holds all five problems: before, the job said 0/5 until the whole batch was stored."""
    teacher = FaultyTeacher(open_backend("transformers", str(tiny_llama), batch_size=4))  # 4 of 10 at once
    monkeypatch.setattr(job_module, "open_backend", lambda backend, model, **options: teacher)
    reported: list[tuple[int, int, str]] = []
    write = JobContext.progress

    def spy(ctx: JobContext, done: int, total: int, message: str = "", *, force: bool = False) -> None:
        reported.append((done, total, message))
        write(ctx, done, total, message, force=True)  # unthrottled: the tiny model is fast

    monkeypatch.setattr(JobContext, "progress", spy)
    job = start_generation(
        session, config=config(dataset_name, samples=2, temperature=1.0, max_tokens=12, batch_size=5)
    )
    assert run_job(engine, job.id) == JobStatus.succeeded
    live = [(done, message) for done, _, message in reported if " · batch " in message]
    assert live and all(total == 5 for _, total, _ in reported)
    assert any(0 < done < 5 for done, _ in live)  # problems finish one by one inside the batch
    sequences = [int(message.split(" · batch ")[1].split("/")[0]) for _, message in live]
    assert any(0 < done < 10 for done in sequences) and sequences == sorted(sequences)
    tokens = [int(message.split(" sequences, ")[1].split(" tokens")[0]) for _, message in live]
    assert tokens == sorted(tokens) and 0 < tokens[0] < tokens[-1]
    assert [done for done, _, _ in reported][-1] == 5


def test_the_job_records_the_precision_its_backend_runs_in(
    engine: Engine, session: Session, dataset_name: str, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[dict[str, Any]] = []
    inner = open_backend("transformers", str(tiny_llama), dtype="float32")
    monkeypatch.setattr(
        job_module, "open_backend", lambda backend, model, **options: opened.append(options) or inner
    )
    job = start_generation(session, config=config(dataset_name, backend_options={"dtype": "float32"}))
    assert run_job(engine, job.id) == JobStatus.succeeded
    session.expire_all()
    finished = session.get(Job, job.id)
    assert finished is not None and finished.params["precision"] == "float32"
    assert opened == [{"dtype": "float32"}] and finished.message.endswith(" · transformers float32")
    probed = start_generation(session, config=config(dataset_name, name="probed"))
    assert run_job(engine, probed.id) == JobStatus.succeeded
    session.expire_all()
    chosen = session.get(Job, probed.id)
    assert chosen is not None and chosen.params["precision"] in ("float32", "bfloat16")
    assert opened[-1] == {"dtype": chosen.params["precision"]}  # the backend got what was recorded


def test_auto_backend_is_the_fastest_installed_for_the_runs_length(
    session: Session, dataset_name: str
) -> None:
    short = start_generation(session, config=config(dataset_name, backend="auto"))
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == short.id)).one()
    assert run.backend == "transformers" and short.params["backend_chosen_by"] == "auto"
    chosen = start_generation(session, config=config(dataset_name, backend="transformers"))
    assert "backend_chosen_by" not in chosen.params
    long_run = config(dataset_name, backend="auto", samples=64, max_tokens=256, name="long")
    job = start_generation(session, config=long_run)
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    assert run.backend == ("vllm" if choice.vllm_installed() else "transformers")
    assert choice.pick_backend(1, 16) == "transformers"  # vLLM's start-up would not pay off


def test_a_finished_run_of_the_same_sampling_settings_is_found_whatever_its_name(
    engine: Engine, session: Session, dataset_name: str
) -> None:
    from backend.teacher.job import finished_twin

    settings = config(dataset_name, samples=2, temperature=0.7, seed=3, name="first")
    job = start_generation(session, config=settings)
    assert finished_twin(session, settings) is None  # queued: its samples may not all be there
    store.mark_finished(engine, job_id=job.id or 0, status=JobStatus.failed, error="killed")
    assert finished_twin(session, settings) is None
    store.mark_finished(engine, job_id=job.id or 0, status=JobStatus.succeeded)
    session.expire_all()
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    renamed = settings.model_copy(update={"name": "second", "batch_size": 7, "price_per_1k_tokens": 2.0})
    twin = finished_twin(session, renamed)
    assert twin is not None and twin.id == run.id
    assert settings.name == "first" and settings.model == "default"  # the caller's config is left alone
    for change in ({"seed": 4}, {"temperature": 0.8}, {"samples": 3}, {"max_tokens": 9}, {"show_gold": True}):
        assert finished_twin(session, settings.model_copy(update=change)) is None, change
