"""One settings object for the whole application (pydantic-settings: env vars prefixed SOCRATIC_)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path.home() / ".socratic-studio"


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
    auth: bool = Field(False, description="Require login in the web app (off: one local admin user).")
    price_per_1k_tokens: float = Field(0.0, description="Estimated cost per 1K tokens for teacher runs.")

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
    def resolved_export_root(self) -> Path:
        return self.export_root or self.home / "exports"


@lru_cache
def get_settings() -> Settings:
    return Settings()
