"""One place that turns a model reference into something that generates.

A reference names one of four things, and nothing else (no hub id, no URL typed by a user):
- a registered checkpoint, by id or name (a student trained here);
- `default`: the embedded SmolLM2-135M-Instruct, prepared once as a safetensors folder;
- a teacher endpoint configured on the server (`SOCRATIC_TEACHER_ENDPOINTS`), by its name;
- a model folder below the configured model roots (absolute, or relative to a root).
A local model runs through `transformers` (the default) or `vllm`, chosen by a `BACKEND:` prefix
(`vllm:default`) or the caller's `backend`; an endpoint always runs through `openai`. Backend options
pass the typed allow-list of backend.teacher.options. Teacher runs, evaluation, step-through and
training's base model all resolve here.

Stored form (evaluation configs, step-through state): `{"checkpoint_id": N}` or
`{"backend": ..., "model": ..., "options": {...}}`. A stored spec is checked again when it is opened: a
spec may come back from a browser.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from backend.files.paths import PathNotAllowed, confined_to_any, is_local_path
from backend.teacher.base import BACKENDS, DEFAULT_MODEL_ALIAS
from backend.teacher.options import AUTO, VLLM_ENGINE, check_options
from db.models import ModelCheckpoint
from db.settings import Settings, get_settings

if TYPE_CHECKING:
    from backend.teacher.base import TeacherBackend

LOCAL_BACKENDS = ("transformers", "vllm")
DEFAULT_MODEL = DEFAULT_MODEL_ALIAS
SPEC_KEYS = {"checkpoint_id", "backend", "model", "options"}


class RefKind(StrEnum):
    checkpoint = "checkpoint"
    default = "default"
    endpoint = "endpoint"
    folder = "folder"


@dataclass(frozen=True)
class ModelRef:
    kind: RefKind
    backend: str
    model: str  # "default", the endpoint's name, or a folder (a checkpoint's folder too)
    checkpoint_id: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def offered(self) -> bool:
        """Made available by an annotator or admin and used as offered (no backend choice, no options):
        a registered checkpoint, the default model or a configured endpoint. All a viewer may run."""
        plain = self.backend in ("transformers", "openai") and not self.options
        return self.kind != RefKind.folder and plain

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any]
        if self.kind == RefKind.checkpoint:
            spec = {"checkpoint_id": self.checkpoint_id}
            if self.backend != "transformers":
                spec["backend"] = self.backend
        else:
            spec = {"backend": self.backend, "model": self.model}
        if self.options:
            spec["options"] = dict(self.options)
        return spec


def _roots_text(settings: Settings) -> str:
    return ", ".join(str(root) for root in settings.resolved_model_roots)


def _choices_text(settings: Settings) -> str:
    names = ", ".join(endpoint.name for endpoint in settings.teacher_endpoints) or "none configured"
    return (
        f"a registered checkpoint (id or name), '{DEFAULT_MODEL}', a configured teacher endpoint "
        f"({names}) or a model folder below {_roots_text(settings)}"
    )


def get_checkpoint(session: Session, *, name_or_id: str | int) -> ModelCheckpoint:
    """A registered checkpoint by id (a number) or by name."""
    text = str(name_or_id).strip()
    checkpoint = session.get(ModelCheckpoint, int(text)) if text.isdigit() else None
    checkpoint = (
        checkpoint or session.exec(select(ModelCheckpoint).where(ModelCheckpoint.name == text)).first()
    )
    if checkpoint is None:
        raise LookupError(f"no checkpoint with id or name {text!r}")
    return checkpoint


def _split_backend(text: str, backend: str | None) -> tuple[str | None, str]:
    """`vllm:default` -> ("vllm", "default"); a prefix that is no backend stays part of the name."""
    prefix, colon, rest = text.partition(":")
    if colon and prefix in BACKENDS and rest.strip():
        return prefix, rest.strip()
    return backend, text


def _folder(name: str, settings: Settings, *, confine: bool) -> Path | None:
    """The model folder `name` names (confined below the model roots), or None when it names none."""
    roots = settings.resolved_model_roots
    if is_local_path(name):
        path = confined_to_any(name, roots=roots) if confine else Path(name).expanduser().resolve()
    else:  # a bare name: a folder directly below one of the roots (e.g. the prepared default model)
        found = [root / name for root in roots if "/" not in name and (root / name).is_dir()]
        if not found:
            return None
        path = confined_to_any(str(found[0]), roots=roots)
    if not path.is_dir():
        raise LookupError(f"{name!r} is not a model folder")
    return path


def _local(
    session: Session, name: str, backend: str, settings: Settings, *, confine: bool
) -> ModelRef | None:
    if name == DEFAULT_MODEL:
        return ModelRef(RefKind.default, backend, DEFAULT_MODEL)
    try:
        checkpoint = get_checkpoint(session, name_or_id=name)
        return ModelRef(RefKind.checkpoint, backend, checkpoint.path, checkpoint.id)
    except LookupError:
        pass
    folder = _folder(name, settings, confine=confine)
    return ModelRef(RefKind.folder, backend, str(folder)) if folder else None


def resolve(
    session: Session,
    text: str,
    *,
    settings: Settings | None = None,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    confine: bool = True,
) -> ModelRef:
    """What a user typed or picked -> a checked ModelRef; LookupError / ValueError saying what is allowed.

    `backend` picks the local backend (`auto`: chosen when a run is created; an endpoint is always
    `openai`); `confine=False` (only for the owner of a login-free install) lets a folder lie anywhere.
    """
    settings = settings or get_settings()
    backend, name = _split_backend(str(text or "").strip(), backend)
    if not name:
        raise ValueError(f"choose a model: {_choices_text(settings)}")
    if backend not in (None, AUTO, *BACKENDS):
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    endpoint = settings.endpoint(name)
    ref: ModelRef | None = None
    if backend != "openai":
        ref = _local(session, name, backend or "transformers", settings, confine=confine)
    if ref is None and endpoint is not None:
        ref = ModelRef(RefKind.endpoint, "openai", endpoint.name)
    if ref is None:
        raise LookupError(f"{name!r} is not a model you can use here; choose {_choices_text(settings)}")
    return ModelRef(
        ref.kind, ref.backend, ref.model, ref.checkpoint_id, check_options(ref.backend, options or {})
    )


def from_spec(
    session: Session, spec: Mapping[str, Any], *, settings: Settings | None = None, confine: bool = True
) -> ModelRef:
    """A stored (or browser-returned) spec, checked again as if it had just been typed."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"a model spec must be an object, got {spec!r}")
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise ValueError(f"unknown model spec field(s) {unknown}; a spec has {sorted(SPEC_KEYS)}")
    options = spec.get("options") or {}
    if spec.get("checkpoint_id") is not None:
        backend = str(spec.get("backend") or "transformers")
        if backend not in LOCAL_BACKENDS:
            raise ValueError(f"a checkpoint runs with {' or '.join(LOCAL_BACKENDS)}, not {backend!r}")
        checkpoint = session.get(ModelCheckpoint, int(spec["checkpoint_id"]))
        if checkpoint is None:
            raise LookupError(f"no checkpoint with id {spec['checkpoint_id']}")
        return ModelRef(
            RefKind.checkpoint, backend, checkpoint.path, checkpoint.id, check_options(backend, options)
        )
    if not spec.get("backend") or not spec.get("model"):
        raise ValueError(f"a model spec needs checkpoint_id, or backend and model; got {dict(spec)!r}")
    return resolve(
        session, str(spec["model"]), settings=settings, backend=str(spec["backend"]), options=options,
        confine=confine,
    )  # fmt: skip


def parse_model_spec(session: Session, text: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """CLI / page text (`my-decomposer`, `12`, `default`, `vllm:default`, an endpoint name) -> stored spec."""
    return resolve(session, text, settings=settings, confine=_confines(settings)).to_spec()


def _confines(settings: Settings | None) -> bool:
    # With login off the one user owns the machine and its folders; with login on, only the roots.
    return (settings or get_settings()).auth


def open_model(
    session: Session, spec: Mapping[str, Any], *, settings: Settings | None = None, **overrides: Any
) -> "TeacherBackend":
    """Load the model a stored spec names; `overrides` (e.g. batch_size) pass the same allow-list."""
    settings = settings or get_settings()
    ref = from_spec(session, spec, settings=settings, confine=_confines(settings))
    options = {**ref.options, **check_options(ref.backend, overrides)}
    return open_backend(ref.backend, ref.model, settings=settings, **options)


def model_path(reference: str) -> str:
    """A local model's folder: `default` prepared on first use, or an existing folder (training's base)."""
    if reference == DEFAULT_MODEL:
        from backend.teacher.default_model import prepare_default_model

        return str(prepare_default_model())
    path = Path(reference).expanduser()
    if not path.is_dir():
        raise LookupError(f"{reference!r} is neither '{DEFAULT_MODEL}' nor a model folder")
    return str(path.resolve())


def _open_endpoint(model: str, settings: Settings, options: dict[str, Any]) -> "TeacherBackend":
    """The configured endpoint `model` names, or (login off, CLI) the URL and key variable in `options`."""
    from backend.teacher.openai_backend import OpenAIBackend

    chat = options.pop("chat", None)
    if "base_url" in options or "api_key_env" in options:
        if settings.auth:
            raise ValueError("teacher endpoints are configured on the server; choose one by name")
        base_url, key_env = options.pop("base_url", None), options.pop("api_key_env", "OPENAI_API_KEY")
        served = model
    else:
        endpoint = settings.endpoint(model)
        if endpoint is None:
            names = ", ".join(e.name for e in settings.teacher_endpoints) or "none configured"
            raise LookupError(f"no teacher endpoint named {model!r} (configured: {names})")
        base_url, key_env, served = endpoint.base_url, endpoint.api_key_env, endpoint.model
        chat = endpoint.chat if chat is None else chat
    api = "chat" if chat else "completions"
    return OpenAIBackend(served, base_url=base_url, api_key_env=key_env, endpoint=api, **options)


def open_backend(
    backend: str, model: str, *, settings: Settings | None = None, **options: Any
) -> "TeacherBackend":
    """Construct the backend: options checked against the allow-list (endpoint URLs only with login off)."""
    settings = settings or get_settings()
    if backend not in BACKENDS:
        raise ValueError(f"unknown teacher backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not model.strip():
        raise ValueError("a teacher model is required: " + _choices_text(settings))
    checked = check_options(backend, options, free_endpoint=not settings.auth)
    if backend == "openai":
        return _open_endpoint(model, settings, checked)
    path = _local_path(model, settings)
    if backend == "transformers":
        from backend.teacher.transformers_backend import TransformersBackend

        return TransformersBackend(path, **checked)
    from backend.teacher.vllm_backend import VLLMBackend

    engine = {name: checked.pop(name) for name in VLLM_ENGINE if name in checked}
    engine["trust_remote_code"] = False  # never: it runs code shipped with a model folder
    return VLLMBackend(path, engine_options=engine, **checked)


def _local_path(model: str, settings: Settings) -> str:
    if model == DEFAULT_MODEL:
        return model_path(model)
    if settings.auth:  # a stored run's folder is checked again where login is on
        try:
            return str(confined_to_any(model, roots=settings.resolved_model_roots))
        except PathNotAllowed as error:
            raise ValueError(str(error)) from error
    return str(Path(model).expanduser())
