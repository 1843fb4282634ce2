"""Which floating-point precision to train and generate in, decided at run time from the hardware.

CPUs differ by a factor of ten here: with AVX-512 BF16 (or AMX) a bfloat16 matmul runs ~2.5x faster than
float32, on an AVX2-only CPU it runs ~3x *slower* (both seen on machines of the same kind). So nothing is
hard-coded: a short probe times the same matmul in both precisions on the threads this process will use
and picks the faster one, unless the user asked for one (`SOCRATIC_DTYPE=float32|bfloat16`).
torch is imported inside the functions so importing this module stays light.
"""

import functools
import os
import time
from dataclasses import dataclass

FLOAT32 = "float32"
BFLOAT16 = "bfloat16"
DTYPES = (FLOAT32, BFLOAT16)
# bf16 must win clearly: a near-tie keeps fp32, which is exact for the fp32 master weights and the loss.
BF16_MIN_SPEEDUP = 1.25
PROBE_SIZE = 1024  # (N, N) @ (N, N): large enough to reach the matmul kernels' steady state
PROBE_REPEATS = 3


@dataclass(frozen=True)
class MatmulProbe:
    """Best-of-N seconds for one (N, N) @ (N, N) matmul in each precision; GFLOP/s for the record."""

    size: int
    threads: int
    fp32_seconds: float
    bf16_seconds: float

    @property
    def fp32_gflops(self) -> float:
        return 2 * self.size**3 / self.fp32_seconds / 1e9

    @property
    def bf16_gflops(self) -> float:
        return 2 * self.size**3 / self.bf16_seconds / 1e9

    @property
    def bf16_speedup(self) -> float:
        return self.fp32_seconds / self.bf16_seconds


def faster_dtype(probe: MatmulProbe, *, min_speedup: float = BF16_MIN_SPEEDUP) -> str:
    """bfloat16 only where the probe shows it clearly faster than float32."""
    return BFLOAT16 if probe.bf16_speedup >= min_speedup else FLOAT32


def _best_seconds(a: object, b: object, repeats: int) -> float:
    import torch

    assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
    torch.mm(a, b)  # warm-up: first call pays for kernel selection / page faults
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return best


def probe_matmul(size: int = PROBE_SIZE, repeats: int = PROBE_REPEATS) -> MatmulProbe:
    """Time the same CPU matmul in float32 and bfloat16 (about a second in all on 2 cores)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator)
    b = torch.randn(size, size, generator=generator)
    fp32 = _best_seconds(a, b, repeats)
    bf16 = _best_seconds(a.bfloat16(), b.bfloat16(), repeats)
    return MatmulProbe(size=size, threads=torch.get_num_threads(), fp32_seconds=fp32, bf16_seconds=bf16)


def _requested() -> str | None:
    value = os.environ.get("SOCRATIC_DTYPE", "").strip().lower()
    if not value or value == "auto":
        return None
    if value not in DTYPES:
        raise ValueError(f"SOCRATIC_DTYPE must be auto, float32 or bfloat16, not {value!r}")
    return value


@functools.cache
def _cpu_choice() -> str:
    return faster_dtype(probe_matmul())


def choose_dtype(device: str = "cpu") -> str:
    """'bfloat16' or 'float32' for this device: the user's SOCRATIC_DTYPE, else bf16 on a GPU that
    supports it, else the CPU probe's winner (probed once per process)."""
    requested = _requested()
    if requested is not None:
        return requested
    if device.startswith("cuda"):
        import torch

        return BFLOAT16 if torch.cuda.is_bf16_supported() else FLOAT32
    return _cpu_choice()


def torch_dtype(name: str) -> object:
    """The torch dtype object for 'float32' / 'bfloat16'."""
    import torch

    return {FLOAT32: torch.float32, BFLOAT16: torch.bfloat16}[name]
