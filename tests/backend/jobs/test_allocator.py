"""A job's process gets a caching allocator when the machine has one, else glibc with mmap off; the
choice is the setting's, what is already preloaded is kept, and the run's record can say which ran."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.jobs import allocator
from backend.jobs.allocator import GLIBC_ENV, choose, in_use, job_environment

ROOT = Path(__file__).resolve().parents[3]


def _libraries(monkeypatch: pytest.MonkeyPatch, found: dict[str, str]) -> None:
    monkeypatch.setattr(allocator, "find_library", lambda name: found.get(name))


def test_auto_prefers_tcmalloc_then_jemalloc_then_tuned_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    _libraries(monkeypatch, {"tcmalloc": "libtcmalloc_minimal.so.4", "jemalloc": "libjemalloc.so.2"})
    assert choose("auto", {}) == ("tcmalloc", "libtcmalloc_minimal.so.4")
    _libraries(monkeypatch, {"jemalloc": "libjemalloc.so.2"})
    assert choose("auto", {}) == ("jemalloc", "libjemalloc.so.2")
    _libraries(monkeypatch, {})
    assert choose("auto", {}) == ("glibc", None)
    assert choose("tcmalloc", {}) == ("glibc", None)  # asked for, not installed: the fallback, not a failure


def test_the_environment_preloads_the_library_or_tunes_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    _libraries(monkeypatch, {"jemalloc": "libjemalloc.so.2"})
    environment = job_environment("jemalloc", {"PATH": "/bin", "LD_PRELOAD": "libother.so"})
    assert environment["LD_PRELOAD"] == "libjemalloc.so.2 libother.so" and environment["PATH"] == "/bin"
    assert "dirty_decay_ms:-1" in environment["MALLOC_CONF"]  # jemalloc keeps its pages, as measured
    assert job_environment("jemalloc", {"MALLOC_CONF": "narenas:2"})["MALLOC_CONF"] == "narenas:2"
    assert not GLIBC_ENV.keys() & environment.keys()
    _libraries(monkeypatch, {})
    environment = job_environment("auto", {"PATH": "/bin"})
    assert "LD_PRELOAD" not in environment and GLIBC_ENV.items() <= environment.items()
    assert in_use(environment) == "glibc, mmap off"


def test_system_and_an_existing_preload_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    _libraries(monkeypatch, {"tcmalloc": "libtcmalloc_minimal.so.4"})
    assert job_environment("system", {"PATH": "/bin"}) == {"PATH": "/bin"}
    preloaded = {"LD_PRELOAD": "/opt/lib/libjemalloc.so"}
    assert job_environment("auto", preloaded) == preloaded and in_use(preloaded) == "jemalloc"


def _child_reports(environment: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return result.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD and mallopt are Linux's")
def test_a_real_job_process_runs_with_what_was_chosen() -> None:
    name, library = choose("auto", {})
    code = (
        "from backend.jobs.allocator import in_use; import pathlib; maps = pathlib.Path('/proc/self/maps')"
        ".read_text(); print(in_use(), 'tcmalloc' in maps, 'jemalloc' in maps)"
    )
    environment = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and k not in GLIBC_ENV}
    report = _child_reports(job_environment("auto", environment), code).split()
    if library:  # the machine has the library: the child really has it mapped
        assert report[0] == name and report[1:] == [str(name == "tcmalloc"), str(name == "jemalloc")]
    else:
        assert report == ["glibc,", "mmap", "off", "False", "False"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_a_foreground_process_tunes_its_own_malloc() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and k not in GLIBC_ENV}
    code = (
        "from backend.jobs.allocator import in_use, tune_this_process; print(in_use()); "
        "tune_this_process('glibc'); print(in_use()); "
        "import numpy; block = numpy.ones(64 << 20, dtype='uint8'); del block"  # a 64 MB block still works
    )
    assert _child_reports(environment, code).splitlines() == ["glibc", "glibc, mmap off"]


def test_time_estimates_follow_the_allocator_a_job_will_get(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    speeds = {}
    for found in ({"tcmalloc": "libtcmalloc_minimal.so.4"}, {}):
        _libraries(monkeypatch, found)
        allocator.training_speed.cache_clear()
        speeds[bool(found)] = (allocator.training_speed("auto"), allocator.training_speed("system"))
    allocator.training_speed.cache_clear()
    assert speeds[True] == (1.0, allocator.TRAINING_SPEED["system"])
    assert speeds[False] == (allocator.TRAINING_SPEED["glibc"], allocator.TRAINING_SPEED["system"])
    assert 0 < allocator.TRAINING_SPEED["system"] < allocator.TRAINING_SPEED["glibc"] < 1.0
