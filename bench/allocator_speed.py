"""Training throughput per memory allocator, back to back in one session (backend.jobs.allocator).

Each allocator runs bench/train_speed.py's arms in its own process (an allocator is chosen when a process
starts), with the environment a job's process would get:
    glibc       the process as started: glibc's malloc with its defaults (the app before this benchmark)
    glibc-tuned glibc with mmap off and no trimming (the fallback every Linux machine has)
    tcmalloc    libtcmalloc_minimal preloaded (Debian: libtcmalloc-minimal4), where installed
    jemalloc    libjemalloc preloaded (Debian: libjemalloc2), where installed
It reports each arm's tokens/s, the process's kernel (system) CPU seconds and peak memory, and the losses,
which must be the same under every allocator (the allocator changes the speed, never the numbers).

Run (about 12 minutes on 2 cores; keep the machine otherwise idle):
    OMP_NUM_THREADS=2 .venv/bin/python bench/allocator_speed.py --rounds 2 > /tmp/allocator_speed.md
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.jobs.allocator import GLIBC_ENV, find_library, job_environment  # noqa: E402

SETTINGS = {"glibc": "system", "glibc-tuned": "glibc", "tcmalloc": "tcmalloc", "jemalloc": "jemalloc"}
ROW = re.compile(r"^\| (\S+) \| ([^|]+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| [^|]+ \| (\[.*\]) \|$")


def environment_for(name: str) -> dict[str, str] | None:
    """The job environment of one allocator, or None where its library is not installed."""
    if name in ("tcmalloc", "jemalloc") and not find_library(name):
        return None
    clean = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and k not in GLIBC_ENV}
    return job_environment(SETTINGS[name], clean)


def run_one(name: str, environment: dict[str, str], arguments: list[str]) -> list[dict[str, str]]:
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "train_speed.py"), *arguments],
            env=environment, stdout=output, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)  # this child's own CPU times and peak memory
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read()
    if process.returncode:
        raise RuntimeError(f"{name}: train_speed.py exited {process.returncode}")
    system_s, peak_gb = usage.ru_stime, usage.ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux
    rows = []
    for line in text.splitlines():
        if match := ROW.match(line.strip()):
            arm, _, tokens, seconds, per_s, losses = match.groups()
            rows.append({"allocator": name, "arm": arm, "tokens": tokens, "seconds": seconds,
                         "tokens_per_s": per_s, "system_s": f"{system_s:.0f}",
                         "peak_gb": f"{peak_gb:.1f}", "losses": losses})  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--allocators", default="glibc,glibc-tuned,tcmalloc,jemalloc")
    parser.add_argument("--arms", default="studio,trl-default")
    parser.add_argument("--examples", type=int, default=96)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole sequence (noise)")
    args = parser.parse_args()
    arguments = ["--examples", str(args.examples), "--steps", str(args.steps), "--arms", args.arms]
    print("| round | allocator | arm | tokens | seconds | tokens/s | system CPU s (process) | peak GB "
          "(process) | losses per step |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for round_number in range(1, args.rounds + 1):
        for name in args.allocators.split(","):
            environment = environment_for(name)
            if environment is None:
                print(f"| {round_number} | {name} | not installed | | | | | | |", flush=True)
                continue
            for row in run_one(name, environment, arguments):
                print(f"| {round_number} | {row['allocator']} | {row['arm']} | {row['tokens']} | "
                      f"{row['seconds']} | {row['tokens_per_s']} | {row['system_s']} | {row['peak_gb']} | "
                      f"{row['losses']} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
