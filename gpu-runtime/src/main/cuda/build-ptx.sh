#!/usr/bin/env bash
# Compiles every kernel file (*.cu) in this folder to PTX for compute_80 (Ampere, Ada, Hopper and
# newer run it through the driver's JIT).
#
#   build-ptx.sh OUT_DIR      writes OUT_DIR/<name>.ptx (the Maven build does this into
#                             target/generated-ptx; CudaPtxFreshnessTest compares it with the
#                             committed copy)
#   build-ptx.sh --commit     rewrites the committed PTX under src/main/resources
#
# Without nvcc on the PATH (or in $CUDA_HOME/bin, /usr/local/cuda/bin) it says so and exits 0:
# the committed PTX is used as it is. NVCC=/path/to/nvcc picks another toolkit, e.g. an older one
# whose PTX ISA an older driver accepts (see README, "CUDA backend").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
committed="$here/../resources/dev/pflash/runtime/backend/cuda"

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR | --commit" >&2
  exit 2
fi
out="$1"
[ "$out" = "--commit" ] && out="$committed"

nvcc="${NVCC:-}"
if [ -z "$nvcc" ]; then
  for candidate in "$(command -v nvcc || true)" "${CUDA_HOME:-/nonexistent}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      nvcc="$candidate"
      break
    fi
  done
fi
if [ -z "$nvcc" ]; then
  echo "build-ptx: no nvcc found; using the committed PTX in $committed"
  exit 0
fi

mkdir -p "$out"
pids=()
for src in "$here"/*.cu; do
  name="$(basename "$src" .cu)"
  target="$out/$name.ptx"
  # Up to date when newer than its source, every header and this script.
  if [ "$out" != "$committed" ] && [ -f "$target" ] && [ -z "$(find "$here" \( -name '*.cu*' -o -name 'build-ptx.sh' \) -newer "$target" -print -quit)" ]; then
    continue
  fi
  "$nvcc" -ptx -arch=compute_80 -O3 -std=c++17 -o "$target" "$src" &
  pids+=($!)
done
status=0
for pid in "${pids[@]+"${pids[@]}"}"; do
  wait "$pid" || status=1
done
if [ $status -ne 0 ]; then
  echo "build-ptx: nvcc failed" >&2
  exit 1
fi
echo "build-ptx: PTX in $out is current ($("$nvcc" --version | tail -1))"
