"""The carried bundle holds every dataset file the gpu preset reads, at the path the ladder reads it from."""

import os
import subprocess
from pathlib import Path

from bench.ladder_presets import PRESETS, dataset_files

ROOT = Path(__file__).resolve().parents[2]


def _shared_layout(root: Path) -> Path:
    """A stand-in for ../shared/datasets: the same folders, one line per file."""
    shared = ("gsm8k/train.jsonl", "gsm8k/test.jsonl", "gsm8k/test_socratic.jsonl", "svamp/SVAMP.json")
    for relative in shared:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(f"{relative}\n")
    return root


def test_the_bundle_script_lays_out_every_file_the_gpu_preset_reads(tmp_path: Path) -> None:
    source, bundle = _shared_layout(tmp_path / "shared"), tmp_path / "bundle"
    env = os.environ | {"SOCRATIC_DATASETS": str(source)}
    subprocess.run(["bash", "bench/gpu_bundle.sh", "--datasets", str(bundle)], cwd=ROOT, env=env, check=True)
    wanted = dataset_files(PRESETS["gpu"])
    assert {"gsm8k/train.jsonl", "gsm8k/test.jsonl", "svamp/SVAMP.json"} <= set(wanted)
    for relative in wanted:
        assert (bundle / relative).read_text() == f"{relative}\n", relative
    assert not (bundle / "gsm8k" / "test_socratic.jsonl").exists()  # only what the ladder reads travels
