"""What every run config shares: a pydantic model whose fields (type, default, description) are the one
source the CLI options, the page defaults and the stored JSON are read from.

Unknown fields are refused, so a stored config with a typo or a retired field fails loudly. A bad value
raises a ValueError in one line that names the field, the way the CLI and the page show it.
"""

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError


def describe(error: ValidationError, title: str) -> str:
    """One line for a person: the unknown fields together, then each bad value with its field."""
    unknown = sorted(".".join(map(str, e["loc"])) for e in error.errors() if e["type"] == "extra_forbidden")
    parts = [f"unknown {title} fields: {unknown}"] if unknown else []
    for item in error.errors():
        if item["type"] == "extra_forbidden":
            continue
        where = ".".join(map(str, item["loc"]))
        message = str(item["ctx"]["error"]) if item["type"] == "value_error" else item["msg"]
        got = "" if item["type"] == "value_error" else f" (got {item['input']!r})"
        parts.append(f"{where}: {message}{got}" if where else message)
    return "; ".join(parts)


class RunConfig(BaseModel):
    """Base of TrainConfig, EvalConfig, GenerationConfig and DemoChainConfig."""

    model_config = ConfigDict(extra="forbid")
    title: ClassVar[str] = "config"  # how error messages name this kind of config

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise ValueError(describe(error, self.title)) from None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (enums as their strings), as stored in a run's row or a job's params."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(**data)

    @classmethod
    def default(cls, name: str) -> Any:
        """A field's default, for the page that shows it and the CLI option that offers it."""
        return cls.model_fields[name].get_default(call_default_factory=True)
