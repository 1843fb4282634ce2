"""The memory allocator of the processes that run model work (training, evaluation, teacher runs) on CPU.

A training step of a small model on a CPU allocates and frees tensors of tens to hundreds of MB (the
activations, the vocabulary logits, the gradients). glibc's malloc maps each large block fresh from the
kernel and unmaps it when freed, so every step page-faults all of its memory in again: on the 2-core test
machine a third of training's CPU time was kernel time. A caching allocator keeps the pages. The app's
trainer, same examples and steps, back to back (docs/results.md, "The memory allocator"): 1.47x with
tcmalloc preloaded into the job's process, about the same with jemalloc told to keep its pages, 1.26x
with glibc's mmap off (the fallback every Linux machine has); the losses are identical.

tcmalloc and jemalloc are system libraries (Debian: `libtcmalloc-minimal4`, `libjemalloc2`); no wheel
ships them, so the app uses one when the machine has it and says which in each run's record.
The `allocator` setting (`SOCRATIC_ALLOCATOR`, validated by db.settings) chooses: `auto` (default:
tcmalloc, else jemalloc, else glibc tuned), one of those names, or `system` (leave the process as it is).
"""

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Mapping
from functools import cache

# name -> the library's ctypes.util.find_library name, in order of preference (measured speed).
PRELOADABLE = {"tcmalloc": "tcmalloc_minimal", "jemalloc": "jemalloc"}
GLIBC_TUNED = "glibc"
SYSTEM = "system"
# glibc reads these at start: no block is served by mmap (so freed memory is reused, not unmapped), and
# the heap's top is never trimmed back to the kernel. The process is a job that ends when its work does.
GLIBC_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}
# jemalloc by default hands freed pages back within seconds, which costs it most of its gain here; a job
# keeps them (a user's own MALLOC_CONF wins).
JEMALLOC_ENV = {"MALLOC_CONF": "background_thread:false,dirty_decay_ms:-1,muzzy_decay_ms:-1"}
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # mallopt parameters (malloc.h)
# The app's trainer's throughput under each allocator, relative to tcmalloc (bench/allocator_speed.py,
# round 1: 559 / 490-586 / 479 / 381 tokens/s), for the time estimates the pages show.
TRAINING_SPEED = {"tcmalloc": 1.0, "jemalloc": 1.0, GLIBC_TUNED: 0.86, SYSTEM: 0.68}


def find_library(name: str) -> str | None:
    """The shared library's file name as the dynamic loader finds it (ldconfig's cache), or None."""
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.util.find_library(PRELOADABLE[name])


def preloaded(environ: Mapping[str, str]) -> str | None:
    """Which caching allocator LD_PRELOAD already names, if any."""
    preload = environ.get("LD_PRELOAD", "")
    return next((name for name in PRELOADABLE if name in preload), None)


def choose(choice: str, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """(allocator name, library to preload or None) for a new job process."""
    if choice == SYSTEM or preloaded(environ):
        return preloaded(environ) or SYSTEM, None
    candidates = list(PRELOADABLE) if choice == "auto" else [choice] if choice in PRELOADABLE else []
    for name in candidates:
        if library := find_library(name):
            return name, library
    return GLIBC_TUNED, None


def job_environment(choice: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment for a job's process: the chosen allocator preloaded, else glibc tuned."""
    name, library = choose(choice, environ)
    environment = dict(environ)
    if library:
        environment["LD_PRELOAD"] = " ".join(filter(None, [library, environ.get("LD_PRELOAD", "")]))
        if name == "jemalloc":
            environment = {**JEMALLOC_ENV, **environment}
    elif name == GLIBC_TUNED:
        environment.update(GLIBC_ENV)
    return environment


def tune_this_process(choice: str) -> None:
    """For model work run in the calling process (the CLI's foreground jobs, benchmarks): glibc's malloc
    is tuned in place when no caching allocator was preloaded (mallopt applies to later allocations)."""
    name, _ = choose(choice, os.environ)
    if name != GLIBC_TUNED or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(2**31 - 1))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): leave the process as it is
        return
    os.environ.update(GLIBC_ENV)  # what in_use() reads, and what this process's children inherit


@cache
def training_speed(choice: str) -> float:
    """How fast a job's training will run under the allocator it will get, relative to tcmalloc."""
    name, _ = choose(choice, os.environ)
    return TRAINING_SPEED.get(name, TRAINING_SPEED[SYSTEM])


def in_use(environ: Mapping[str, str] | None = None) -> str:
    """The allocator this process runs with, for the run's record."""
    environ = os.environ if environ is None else environ
    if name := preloaded(environ):
        return name
    if all(environ.get(key) == value for key, value in GLIBC_ENV.items()):
        return "glibc, mmap off"
    return "glibc" if sys.platform.startswith("linux") else SYSTEM
