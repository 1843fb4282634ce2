"""The precision probe: bf16 only where it is clearly faster, the user's choice wins, bad values refused."""

import pytest

from backend import precision
from backend.precision import BFLOAT16, FLOAT32, MatmulProbe, choose_dtype, faster_dtype, probe_matmul


def probe(fp32_seconds: float, bf16_seconds: float) -> MatmulProbe:
    return MatmulProbe(size=1024, threads=2, fp32_seconds=fp32_seconds, bf16_seconds=bf16_seconds)


def test_bf16_chosen_where_the_cpu_runs_it_faster() -> None:
    # AVX-512 BF16 machine: 2048^2 matmul at ~150 GFLOP/s fp32, ~356 bf16.
    assert faster_dtype(probe(0.114, 0.048)) == BFLOAT16


def test_fp32_kept_where_bf16_is_slower_or_only_marginally_faster() -> None:
    assert faster_dtype(probe(0.10, 0.30)) == FLOAT32  # AVX2-only: bf16 ~3x slower
    assert faster_dtype(probe(0.10, 0.09)) == FLOAT32  # a near-tie is not worth the rounding


def test_real_probe_measures_both_precisions() -> None:
    measured = probe_matmul(size=256, repeats=1)
    assert measured.fp32_seconds > 0 and measured.bf16_seconds > 0
    assert faster_dtype(measured) in (FLOAT32, BFLOAT16)


def test_user_choice_overrides_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "_cpu_choice", lambda: BFLOAT16)
    monkeypatch.setenv("SOCRATIC_DTYPE", "float32")
    assert choose_dtype("cpu") == FLOAT32
    monkeypatch.setenv("SOCRATIC_DTYPE", "auto")
    assert choose_dtype("cpu") == BFLOAT16


def test_unknown_dtype_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCRATIC_DTYPE", "float8; rm -rf /")
    with pytest.raises(ValueError, match="SOCRATIC_DTYPE"):
        choose_dtype("cpu")
