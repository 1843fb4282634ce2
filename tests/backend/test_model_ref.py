"""backend.model_ref: every kind of reference resolves in one place (checkpoint by id or name, `default`,
a configured teacher endpoint, a folder below the model roots), anything else is refused saying what is
allowed, a stored spec is checked again, and the backend is built with checked options only."""

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from backend import model_ref
from backend.files.paths import PathNotAllowed
from backend.model_ref import ModelRef, RefKind
from backend.teacher.openai_backend import OpenAIBackend
from db.models import ModelCheckpoint, StudentKind
from db.settings import Settings, TeacherEndpoint

LAB = TeacherEndpoint(name="lab", base_url="http://127.0.0.1:9/v1", model="smol", api_key_env="LAB_KEY")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home", auth=True, teacher_endpoints=[LAB], model_roots=[])
    (settings.resolved_model_cache / "my-model").mkdir(parents=True)
    return settings


@pytest.fixture
def checkpoint(session: Session, settings: Settings) -> ModelCheckpoint:
    folder = settings.resolved_runs_dir / "run-1" / "model"
    folder.mkdir(parents=True)
    checkpoint = ModelCheckpoint(name="my-decomposer", role=StudentKind.decomposer, path=str(folder))
    session.add(checkpoint)
    session.commit()
    return checkpoint


def test_each_kind_of_reference(session: Session, settings: Settings, checkpoint: ModelCheckpoint) -> None:
    def resolve(text: str, **kwargs: Any) -> ModelRef:
        return model_ref.resolve(session, text, settings=settings, **kwargs)

    assert resolve(str(checkpoint.id)) == ModelRef(
        RefKind.checkpoint, "transformers", checkpoint.path, checkpoint.id
    )
    assert resolve("my-decomposer").to_spec() == {"checkpoint_id": checkpoint.id}
    assert resolve("default") == ModelRef(RefKind.default, "transformers", "default")
    assert resolve("vllm:default").to_spec() == {"backend": "vllm", "model": "default"}
    assert resolve("lab", backend="transformers") == ModelRef(RefKind.endpoint, "openai", "lab")
    folder = str(settings.resolved_model_cache / "my-model")
    assert resolve("my-model") == resolve(folder) == ModelRef(RefKind.folder, "transformers", folder)
    ref = resolve("vllm:my-model", options={"dtype": "bfloat16"})
    assert ref.options == {"dtype": "bfloat16"} and not ref.offered
    assert resolve("default").offered and resolve("lab").offered and resolve("1").offered
    assert not resolve("my-model").offered and not resolve("vllm:default").offered


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("HuggingFaceTB/SmolLM2-135M", LookupError, "is not a model you can use here; choose a registered"),
        ("openai:gpt-4o-mini", LookupError, "configured teacher endpoint (lab)"),
        ("openai:default", LookupError, "is not a model you can use here"),
        ("/etc", PathNotAllowed, "outside the allowed folders"),
        ("../../..", PathNotAllowed, "outside the allowed folders"),
        ("", ValueError, "choose a model"),
    ],
)
def test_anything_else_is_refused_saying_what_is_allowed(
    session: Session, settings: Settings, text: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        model_ref.resolve(session, text, settings=settings)


def test_a_stored_spec_is_checked_again(
    session: Session, settings: Settings, checkpoint: ModelCheckpoint
) -> None:
    def from_spec(spec: dict[str, Any]) -> ModelRef:
        return model_ref.from_spec(session, spec, settings=settings)

    assert from_spec({"checkpoint_id": checkpoint.id}).model == checkpoint.path
    assert from_spec({"backend": "openai", "model": "lab"}).kind == RefKind.endpoint
    refusals = [
        (
            {"backend": "openai", "model": "lab", "options": {"base_url": "http://evil/v1"}},
            "'base_url' is not",
        ),
        (
            {"backend": "vllm", "model": "default", "options": {"trust_remote_code": True}},
            "trust_remote_code",
        ),
        ({"backend": "transformers", "model": "/etc"}, "outside the allowed folders"),
        (
            {"checkpoint_id": checkpoint.id, "backend": "openai"},
            "a checkpoint runs with transformers or vllm",
        ),
        ({"checkpoint_id": 999}, "no checkpoint with id 999"),
        ({"model": "default", "base_url": "http://evil/v1"}, "unknown model spec field"),
        ({"model": "default"}, "needs checkpoint_id, or backend and model"),
    ]
    for spec, message in refusals:
        with pytest.raises((ValueError, LookupError), match=message):
            from_spec(spec)


def test_an_endpoint_opens_with_its_configured_url_and_key_variable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_KEY", "sk-lab")
    backend = model_ref.open_backend("openai", "lab", settings=settings, concurrency=2)
    assert isinstance(backend, OpenAIBackend)
    assert (backend.model, str(backend.client.base_url), backend.client.api_key) == (
        "smol",
        "http://127.0.0.1:9/v1/",
        "sk-lab",
    )
    assert backend.concurrency == 2 and backend.endpoint == "completions"
    backend.close()
    with pytest.raises(ValueError, match="'base_url' is not allowed"):  # login on: names only
        model_ref.open_backend("openai", "smol", settings=settings, base_url="http://evil/v1")
    with pytest.raises(LookupError, match="no teacher endpoint named 'nope'"):
        model_ref.open_backend("openai", "nope", settings=settings)
    owner = settings.model_copy(update={"auth": False})  # login off: the CLI may name a server
    free = model_ref.open_backend("openai", "smol", settings=owner, base_url="http://127.0.0.1:8/v1")
    assert isinstance(free, OpenAIBackend) and str(free.client.base_url) == "http://127.0.0.1:8/v1/"
    free.close()


def test_vllm_gets_typed_options_and_never_remote_code(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine itself is exercised in test_vllm_backend (slow); here only what reaches its constructor."""
    from backend.teacher import vllm_backend

    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        vllm_backend, "VLLMBackend", lambda model, **kwargs: seen.update(model=model, **kwargs)
    )
    folder = str(settings.resolved_model_cache / "my-model")
    model_ref.open_backend("vllm", folder, settings=settings, dtype="float32", tensor_parallel_size=2)
    assert seen == {
        "model": folder,
        "dtype": "float32",
        "engine_options": {"tensor_parallel_size": 2, "trust_remote_code": False},
    }
    with pytest.raises(ValueError, match="outside the allowed folders"):  # a stored folder, checked again
        model_ref.open_backend("vllm", "/etc", settings=settings)


def test_training_base_model_is_a_folder(tmp_path: Path) -> None:
    assert model_ref.model_path(str(tmp_path)) == str(tmp_path.resolve())
    with pytest.raises(LookupError, match="neither 'default' nor a model folder"):
        model_ref.model_path("HuggingFaceTB/SmolLM2-135M")
