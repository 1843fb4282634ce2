#!/usr/bin/env bash
# Build what the `gpu` ladder preset carries to the lent GPU machine (device tool: Python 3.12 with
# torch, transformers, accelerate, peft, pyarrow; 64 MiB carried per call). Writes two ignored folders:
#   .gpu-carry/a  the wheels the device lacks (cp312) and half of SmolLM2's GGUF
#   .gpu-carry/b  the other half of the GGUF (93 MB in all: it cannot travel in one call), and under
#                 datasets/ GSM8K and SVAMP in the layout the ladder reads (bench/ladder_bundle.py)
# The sequence of device calls is in bench/gpu_run.sh. Run from anywhere:
#   bench/gpu_bundle.sh                   the whole bundle
#   bench/gpu_bundle.sh --datasets DEST   only the datasets, into DEST (what the CPU rehearsal reads)
# SOCRATIC_DATASETS names another source of the datasets than ../shared/datasets.
set -euo pipefail
cd "$(dirname "$0")/.."
source_datasets="${SOCRATIC_DATASETS:-../shared/datasets}"
if [ "${1:-}" = "--datasets" ]; then
  exec .venv/bin/python bench/ladder_bundle.py gpu "$source_datasets" "$2"
fi
out=.gpu-carry
rm -rf "$out" && mkdir -p "$out/a/wheels" "$out/b"
# Pinned to what this project's venv runs; --no-deps: each dependency the device image lacks is listed
# here (it has scipy, fsspec, xxhash, httpx, typer, pandas, pyarrow: ../.library/device/KINDS.md).
wheels=(
  trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
  sqlmodel==0.0.50 SQLAlchemy==2.1.9 greenlet==3.5.6 alembic==1.20.1 Mako==1.4.3
  pydantic==2.14.4 pydantic_core==2.50.5 pydantic-settings==2.16.3 python-dotenv==1.2.4
  typing-inspection==0.4.5 annotated-types==0.8.0 gguf==0.19.0
  argon2-cffi==25.1.0 argon2-cffi-bindings==26.2.0
)
.venv/bin/pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_24_x86_64 \
  --platform manylinux_2_26_x86_64 --platform manylinux_2_28_x86_64 \
  --implementation cp -d "$out/a/wheels" "${wheels[@]}"
.venv/bin/python bench/ladder_bundle.py gpu "$source_datasets" "$out/b/datasets"
gguf="$(.venv/bin/python -c 'from backend.teacher.default_model import gguf_location as g; d, n = g(); print(d / n)')"
split -n 2 -d "$gguf" "$out/part"
mv "$out/part00" "$out/a/smollm2.gguf.part00" && mv "$out/part01" "$out/b/smollm2.gguf.part01"
sha256sum "$gguf" | cut -d' ' -f1 > "$out/a/smollm2.gguf.sha256"
du -sh "$out/a" "$out/b"
