"""torch.compile in training (backend.training.compiling): `auto` compiles only when the steps left pay the
compile back, `on` needs a C++ compiler and says so, and a compiled run trains the same model."""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM

from backend.training import compiling
from backend.training.compiling import PAYBACK_SECONDS, PROBE_STEPS, CompileWhenItPays, worth_compiling
from backend.training.config import CompileMode, TrainConfig


def _compiled(model: Any) -> bool:
    return getattr(model.get_decoder(), "_compiled_call_impl", None) is not None


def _run_probe(model: Any, monkeypatch: pytest.MonkeyPatch, max_steps: int, seconds_per_step: float) -> Any:
    """The callback through PROBE_STEPS steps of `seconds_per_step` each, on a clock the test sets."""
    now = [0.0]
    monkeypatch.setattr(compiling.time, "monotonic", lambda: now[0])
    callback = CompileWhenItPays(CompileMode.auto, "cpu")
    callback.on_train_begin(None, SimpleNamespace(global_step=0, max_steps=max_steps), None, model=model)
    for step in range(1, PROBE_STEPS + 1):
        now[0] = step * seconds_per_step
        callback.on_step_end(None, SimpleNamespace(global_step=step, max_steps=max_steps), None, model=model)
    return callback


def test_a_compile_is_worth_it_only_when_the_steps_left_take_the_payback_time() -> None:
    assert worth_compiling(1000, PAYBACK_SECONDS / 1000)
    assert not worth_compiling(999, PAYBACK_SECONDS / 1000)


def test_auto_compiles_a_long_run_after_its_probe_and_leaves_a_short_one_alone(
    tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_run = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32)
    callback = _run_probe(long_run, monkeypatch, max_steps=PROBE_STEPS + 1000, seconds_per_step=3.0)
    assert _compiled(long_run) and callback.compiled_at_step == PROBE_STEPS
    assert callback.decision.startswith(f"auto: compiled after step {PROBE_STEPS} (1000 steps left at 3.0 s")
    short_run = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32)
    callback = _run_probe(short_run, monkeypatch, max_steps=PROBE_STEPS + 100, seconds_per_step=3.0)
    assert not _compiled(short_run) and callback.compiled_at_step is None
    assert (
        callback.decision
        == f"auto: not compiled (100 steps left at 3.0 s = 300 s, under {PAYBACK_SECONDS:.0f} s)"
    )


def test_without_a_cpp_compiler_on_is_refused_and_auto_does_not_compile(
    tiny_llama: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiling.shutil, "which", lambda name: None)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32)
    state = SimpleNamespace(global_step=0, max_steps=10_000)
    with pytest.raises(RuntimeError, match="compile=on needs a C\\+\\+ compiler"):
        CompileWhenItPays(CompileMode.on, "cpu").on_train_begin(None, state, None, model=model)
    callback = _run_probe(model, monkeypatch, max_steps=10_000, seconds_per_step=3.0)
    assert not _compiled(model) and callback.decision == "auto: not compiled (no C++ compiler found)"


def test_the_option_takes_only_its_three_values() -> None:
    assert TrainConfig(set_id=1).compile == CompileMode.off
    assert TrainConfig(set_id=1, compile="auto").compile == CompileMode.auto  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="compile"):
        TrainConfig(set_id=1, compile="always")  # type: ignore[arg-type]
    # A finished run's record keeps what was done under its own key: its config still reads back.
    record = {
        "set_id": 1,
        "compile": "auto",
        "compiled": "auto: not compiled (100 steps left at 3.0 s = 300 s)",
    }
    assert TrainConfig.from_run(record).compile == CompileMode.auto


def _losses(model_dir: Path, out: Path, mode: CompileMode) -> tuple[list[float], Any]:
    from backend.student_formats import Example
    from backend.training.trainer import _causal_trainer, _common_arguments

    config = TrainConfig(set_id=0, max_steps=3, batch_size=4, learning_rate=1e-3, warmup=0.0)
    examples = [
        Example(f"Q: {a} + {a * 3} = ?\nA:", f" {a} + {a * 3} = {4 * a}." * (1 + a % 3)) for a in range(12)
    ]
    callback = CompileWhenItPays(mode, "cpu")
    trainer = _causal_trainer(
        config, str(model_dir), examples, _common_arguments(config, out, "cpu", False), [callback]
    )
    trainer.train()
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry], trainer.model


@pytest.mark.slow
def test_a_compiled_run_trains_the_same_model_and_saves_the_same_weight_names(
    tiny_llama: Path, tmp_path: Path
) -> None:
    plain, plain_model = _losses(tiny_llama, tmp_path / "plain", CompileMode.off)
    compiled, compiled_model = _losses(tiny_llama, tmp_path / "compiled", CompileMode.on)
    assert _compiled(compiled_model) and not _compiled(plain_model)
    assert len(plain) == 3 and compiled == pytest.approx(plain, abs=1e-4)
    assert compiled_model.state_dict().keys() == plain_model.state_dict().keys()  # no `_orig_mod.` prefix
