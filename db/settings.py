"""One settings object for the whole application (pydantic-settings: env vars prefixed SOCRATIC_)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path.home() / ".socratic-studio"
ENDPOINT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ENV_VAR_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
# Jobs of each kind (db.models.JobKind values) running at once. Training and evaluation take every core of
# a CPU machine (and one GPU's memory), so one at a time; a teacher run may wait on a remote server.
DEFAULT_MAX_RUNNING_JOBS = {"train": 1, "evaluate": 1, "generate": 2, "import": 2, "demo": 1, "round": 1}


class TeacherEndpoint(BaseModel):
    """An OpenAI-compatible server the operator allows teacher runs to use; users pick it by `name`."""

    name: str = Field(pattern=ENDPOINT_NAME, description="What users choose in the page and CLI.")
    base_url: str = Field(min_length=1, description="e.g. http://127.0.0.1:8000/v1")
    model: str = Field(min_length=1, description="The model name the server serves.")
    api_key_env: str | None = Field(
        None, pattern=ENV_VAR_NAME, description="Name of the environment variable holding the key."
    )
    chat: bool = Field(False, description="Use the chat completions API by default.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOCRATIC_", env_file=".env", extra="ignore")

    home: Path = Field(DEFAULT_HOME, description="Root for the database, model cache, runs and exports.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means an SQLite file under home.")
    model_cache: Path | None = Field(None, description="Prepared models (default: home/models).")
    runs_dir: Path | None = Field(None, description="Training run directories and job logs (home/runs).")
    export_root: Path | None = Field(None, description="Exports may only be written below this folder.")
    model_roots: list[Path] = Field(
        default_factory=list, description="Extra folders from which users may load local models."
    )
    teacher_endpoints: list[TeacherEndpoint] = Field(
        default_factory=list,
        description="Teacher endpoints users may choose, as JSON: "
        '[{"name": "local-vllm", "base_url": "http://127.0.0.1:8000/v1", "model": "smol", '
        '"api_key_env": "VLLM_KEY"}]',
    )
    auth: bool = Field(False, description="Require login in the web app (off: one local admin user).")
    public_origin: str = Field(
        "",
        description="The address browsers use to reach the app, as scheme://host[:port] (e.g. "
        "https://studio.example.org behind a TLS proxy). Only pages from it may make logged-in calls; "
        "empty means the address each request was sent to (the served host and port).",
    )
    session_idle_minutes: int = Field(
        720, ge=1, description="A login session ends after this many minutes without a request."
    )
    price_per_1k_tokens: float = Field(0.0, description="Estimated cost per 1K tokens for teacher runs.")
    allocator: Literal["auto", "tcmalloc", "jemalloc", "glibc", "system"] = Field(
        "auto",
        description="Memory allocator of job processes (backend.jobs.allocator): auto picks tcmalloc, "
        "else jemalloc, else glibc with mmap off; system leaves them as started.",
    )
    max_prompt_tokens: int = Field(
        2048,
        ge=16,
        description="Longest prompt, in tokens, a local model is given (step-through, evaluation); a longer "
        "one is refused with a clear error (also when it would overflow the model's context).",
    )
    max_running_jobs: dict[str, int] = Field(
        default_factory=dict,
        description="Most jobs of a kind running at once, as JSON, e.g. "
        '{"train": 1, "evaluate": 1, "generate": 2, "import": 2, "demo": 1, "round": 1} (the defaults); the '
        "rest wait in line as queued and start when a running one ends.",
    )

    @field_validator("teacher_endpoints")
    @classmethod
    def _unique_names(cls, endpoints: list[TeacherEndpoint]) -> list[TeacherEndpoint]:
        names = [endpoint.name for endpoint in endpoints]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"teacher endpoint names must be unique: {duplicates}")
        return endpoints

    @field_validator("public_origin")
    @classmethod
    def _plain_origin(cls, origin: str) -> str:
        """scheme://host[:port], lower case and without a default port: comparable with Origin headers."""
        if not origin:
            return ""
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(
                f"public_origin must look like https://studio.example.org[:port], not {origin!r}"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"public_origin must be scheme://host[:port] only, not {origin!r}")
        return plain_origin(parts.scheme, parts.netloc)

    @field_validator("max_running_jobs")
    @classmethod
    def _known_kinds(cls, caps: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(caps) - set(DEFAULT_MAX_RUNNING_JOBS))
        if unknown:
            raise ValueError(
                f"max_running_jobs: unknown job kinds {unknown}; known: {list(DEFAULT_MAX_RUNNING_JOBS)}"
            )
        if any(cap < 1 for cap in caps.values()):
            raise ValueError(f"max_running_jobs: each cap must be at least 1, got {caps}")
        return caps

    def running_job_cap(self, kind: str) -> int:
        """How many jobs of `kind` may run at once (the setting, else the default)."""
        return self.max_running_jobs.get(kind, DEFAULT_MAX_RUNNING_JOBS[kind])

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'studio.db'}"

    @property
    def resolved_model_cache(self) -> Path:
        return self.model_cache or self.home / "models"

    @property
    def resolved_runs_dir(self) -> Path:
        return self.runs_dir or self.home / "runs"

    @property
    def resolved_model_roots(self) -> list[Path]:
        """Folders models may be loaded from: prepared models, training runs, configured roots."""
        return [self.resolved_model_cache, self.resolved_runs_dir, *self.model_roots]

    def endpoint(self, name: str) -> TeacherEndpoint | None:
        return next((endpoint for endpoint in self.teacher_endpoints if endpoint.name == name), None)

    @property
    def resolved_export_root(self) -> Path:
        return self.export_root or self.home / "exports"


def plain_origin(scheme: str, netloc: str) -> str:
    """An origin as browsers send it in the Origin header: lower case, default port left out."""
    scheme, netloc = scheme.lower(), netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc.removesuffix(default)
    return f"{scheme}://{netloc}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
