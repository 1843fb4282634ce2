"""Training a tiny student end to end: metrics rows, a registered checkpoint plain transformers loads,
LoRA with and without merge, T5 seq2seq, cancel at a step boundary, the worker subprocess, a crash."""

import json
import time
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from backend.jobs import runner, store
from backend.training.config import TrainConfig
from backend.training.job import execute_training, start_training
from db.models import JobStatus, ModelCheckpoint, TrainingMetric, TrainingRun
from tests.backend.training.frozen_set import make_frozen_set
from tests.tiny_models import build_tiny_t5


@pytest.fixture(scope="module")
def tiny_t5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


def prepare(session: Session, base: Path, tmp_path: Path, **fields: object) -> tuple[int, TrainConfig]:
    curated_set = make_frozen_set(session)
    values: dict[str, object] = {"kind": "decomposer", "max_steps": 4, "batch_size": 4, "learning_rate": 1e-3}
    values.update(fields)
    config = TrainConfig(
        set_id=curated_set.id, base_model=str(base), output_dir=str(tmp_path / "run"), **values
    )  # type: ignore[arg-type]
    _, run = start_training(session, config=config)
    assert run.id is not None
    return run.id, config


def metrics(session: Session, run_id: int) -> list[TrainingMetric]:
    query = select(TrainingMetric).where(TrainingMetric.run_id == run_id).order_by(col(TrainingMetric.step))
    return list(session.exec(query).all())


def test_start_training_saves_the_config_before_anything_trains(session, tiny_llama, tmp_path):
    run_id, _ = prepare(session, tiny_llama, tmp_path, name="my-run")
    run = session.get(TrainingRun, run_id)
    assert run is not None and run.status == JobStatus.queued and run.job_id is not None
    assert TrainConfig.from_run(run.hyperparams).name == "my-run"  # the row holds the one copy
    assert not (tmp_path / "run" / "config.json").exists()
    assert run.hyperparams["n_examples"] == 3 + 2 + 3  # one per step plus an END example per problem
    assert not (tmp_path / "run" / "model").exists()


def test_start_training_refuses_bad_input(session, tiny_llama, tmp_path):
    plain_set = make_frozen_set(session, name="plain", socratic=False)
    with pytest.raises(ValueError, match="without sub-questions"):
        start_training(session, config=TrainConfig(set_id=plain_set.id, kind="solver"))
    with pytest.raises(LookupError, match="no curated set named 'nope'"):
        start_training(session, config=TrainConfig(set_name="nope"))
    prepare(session, tiny_llama, tmp_path, name="taken")
    with pytest.raises(ValueError, match="already exists"):
        start_training(session, config=TrainConfig(set_name="plain", kind="cot", name="taken"))
    assert len(session.exec(select(TrainingRun)).all()) == 1  # nothing half-created


def _assert_causal_checkpoint(checkpoint: ModelCheckpoint) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(checkpoint.path)
    assert (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists()
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = tokenizer("Problem: x\nQ1:", return_tensors="pt")
    assert model.generate(**ids, max_new_tokens=3, do_sample=False).shape[1] >= ids["input_ids"].shape[1]


@pytest.mark.parametrize(("model_fixture", "kind"), [("tiny_llama", "decomposer"), ("tiny_gpt2", "solver")])
def test_training_writes_metrics_and_a_loadable_checkpoint(
    engine, session, tmp_path, request, model_fixture, kind
):
    run_id, config = prepare(
        session, request.getfixturevalue(model_fixture), tmp_path, kind=kind, max_steps=6
    )
    checkpoint = execute_training(engine, run_id=run_id, config=config, cancelled=lambda: False)
    assert checkpoint is not None and checkpoint.role == kind and checkpoint.step == 6
    rows = metrics(session, run_id)
    assert [row.step for row in rows] == [1, 2, 3, 4, 5, 6]
    assert all(row.loss and row.learning_rate is not None and row.tokens_per_second for row in rows)
    assert rows[-1].eta_seconds == 0 and rows[0].eta_seconds and rows[0].eta_seconds > 0
    assert rows[-1].loss < rows[0].loss  # it learns the toy set
    run = session.get(TrainingRun, run_id)
    assert (
        run is not None
        and run.status == JobStatus.succeeded
        and run.device == "cpu"
        and run.train_seconds > 0
    )
    assert run.hyperparams["allocator"] in ("tcmalloc", "jemalloc", "glibc, mmap off", "glibc", "system")
    assert run.hyperparams["training_path"].startswith("TRL SFTTrainer, compact head: packed rows")
    _assert_causal_checkpoint(checkpoint)


def test_lora_merged_on_save_is_a_plain_model(engine, session, tiny_llama, tmp_path):
    run_id, config = prepare(session, tiny_llama, tmp_path, lora=True, lora_r=4, merge_lora=True)
    checkpoint = execute_training(engine, run_id=run_id, config=config, cancelled=lambda: False)
    assert checkpoint is not None
    assert not (Path(checkpoint.path) / "adapter_config.json").exists()
    _assert_causal_checkpoint(checkpoint)


def test_lora_without_merge_saves_the_adapter_only(engine, session, tiny_llama, tmp_path):
    run_id, config = prepare(session, tiny_llama, tmp_path, lora=True, lora_r=4, merge_lora=False)
    checkpoint = execute_training(engine, run_id=run_id, config=config, cancelled=lambda: False)
    assert checkpoint is not None
    adapter = json.loads((Path(checkpoint.path) / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and not (Path(checkpoint.path) / "model.safetensors").exists()


def test_t5_trains_as_seq2seq(engine, session, tiny_t5, tmp_path):
    from transformers import AutoModelForSeq2SeqLM

    run_id, config = prepare(session, tiny_t5, tmp_path, kind="solver", max_steps=5)
    checkpoint = execute_training(engine, run_id=run_id, config=config, cancelled=lambda: False)
    assert checkpoint is not None and len(metrics(session, run_id)) == 5
    assert AutoModelForSeq2SeqLM.from_pretrained(checkpoint.path).config.is_encoder_decoder


def test_cancel_stops_at_a_step_boundary_and_keeps_the_checkpoint(engine, session, tiny_llama, tmp_path):
    run_id, config = prepare(session, tiny_llama, tmp_path, max_steps=50)
    answers = iter([False, False, True])  # asked once per step: the cancel arrives during step 3
    checkpoint = execute_training(engine, run_id=run_id, config=config, cancelled=lambda: next(answers, True))
    assert checkpoint is not None and checkpoint.step == 3 and checkpoint.name.endswith("-cancelled-step3")
    assert [row.step for row in metrics(session, run_id)] == [1, 2, 3]
    run = session.get(TrainingRun, run_id)
    assert run is not None and run.status == JobStatus.cancelled
    _assert_causal_checkpoint(checkpoint)


def _wait_for_job(session: Session, job_id: int, timeout: float = 120.0) -> JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.expire_all()
        status = store.get_job(session, job_id=job_id).status
        if status.finished:
            return status
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_worker_subprocess_trains_and_registers_the_checkpoint(engine, session, tiny_gpt2, tmp_path):
    run_id, _ = prepare(session, tiny_gpt2, tmp_path, kind="cot", max_steps=3)
    run = session.get(TrainingRun, run_id)
    assert run is not None and run.job_id is not None
    process = runner.spawn_job(run.job_id, database_url=str(engine.url), logs_dir=tmp_path / "logs")
    assert _wait_for_job(session, run.job_id) == JobStatus.succeeded, store.read_log_tail(
        str(tmp_path / "logs" / f"job-{run.job_id}.log")
    )
    process.wait(timeout=30)
    job = store.get_job(session, job_id=run.job_id)
    assert job.done == job.total == 3 and "checkpoint" in job.message
    checkpoint = session.exec(select(ModelCheckpoint).where(ModelCheckpoint.training_run_id == run_id)).one()
    assert checkpoint.role == "cot" and Path(checkpoint.path, "model.safetensors").exists()
    assert "'loss'" in Path(tmp_path / "logs" / f"job-{run.job_id}.log").read_text()  # per-step log lines


def test_a_crash_records_its_error_in_one_line(engine, session, tmp_path):
    not_a_model = tmp_path / "empty-model"
    not_a_model.mkdir()
    run_id, _ = prepare(session, not_a_model, tmp_path)
    run = session.get(TrainingRun, run_id)
    assert run is not None and run.job_id is not None
    log = tmp_path / "job.log"
    log.write_text("earlier output in the log\n")
    assert runner.run_job(engine, run.job_id, log_path=str(log)) == JobStatus.failed
    session.expire_all()
    job = store.get_job(session, job_id=run.job_id)
    assert "empty-model" in (job.error or "") and "\n" not in (job.error or "")  # traceback: in the log
    assert session.get(TrainingRun, run_id).status == JobStatus.failed  # type: ignore[union-attr]
