"""The datasets a ladder preset reads, laid out under a new root exactly as the ladder reads them.

bench/gpu_bundle.sh builds the carried bundle with it, and `bench/ladder.py --dry-run` reads a bundle built
by it, so a layout the ladder cannot read fails here on CPU before a device call is spent:
    .venv/bin/python bench/ladder_bundle.py gpu ../shared/datasets .gpu-carry/b/datasets
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ladder_presets import PRESETS, Preset, dataset_files  # noqa: E402


def bundle_datasets(preset: Preset, source: Path, dest: Path) -> list[Path]:
    """Copy every file the preset reads from `source` to the same relative path under `dest`."""
    copied = []
    for relative in dataset_files(preset):
        origin = source / relative
        if not origin.is_file():
            raise FileNotFoundError(f"the preset reads {relative}, not found under {source}")
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, target)
        copied.append(target)
    return copied


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in PRESETS:
        print(f"usage: ladder_bundle.py {{{','.join(sorted(PRESETS))}}} SOURCE DEST", file=sys.stderr)
        return 2
    for path in bundle_datasets(PRESETS[argv[0]], Path(argv[1]), Path(argv[2])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
