#!/usr/bin/env bash
# Compiles every kernel file (*.cu) in this folder to PTX for compute_80 (Ampere, Ada, Hopper and
# newer run it through the driver's JIT), and writes the PTX ISA version the kernels need
# ($PTX_ISA, default 7.0, the ISA of CUDA 11.0) into its .version header instead of the newer one
# nvcc stamps, so that drivers from CUDA 11.0 on load it; when ptxas is at hand it checks that
# every module assembles under that version.
#
#   build-ptx.sh OUT_DIR      writes OUT_DIR/<name>.ptx (the Maven build does this into
#                             target/generated-ptx; CudaPtxFreshnessTest compares it with the
#                             committed copy). A broken nvcc is reported and the build goes on
#                             with the committed PTX.
#   build-ptx.sh --commit     rewrites the committed PTX under src/main/resources; any failure
#                             fails the script
#
# Without nvcc on the PATH (or in $CUDA_HOME/bin, /usr/local/cuda/bin) it says so and exits 0:
# the committed PTX is used as it is. NVCC=/path/to/nvcc picks another toolkit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
committed="$here/../resources/dev/pflash/runtime/backend/cuda"
isa="${PTX_ISA:-7.0}"

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR | --commit" >&2
  exit 2
fi
out="$1"
regenerating=0
if [ "$out" = "--commit" ]; then
  out="$committed"
  regenerating=1
fi

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
ptxas="$(dirname "$nvcc")/ptxas"
[ -x "$ptxas" ] || ptxas="$(command -v ptxas || true)"

# Gives up: an error when regenerating on purpose, else a warning, dropping what this run wrote
# so that the freshness test skips instead of comparing half-built output.
give_up() {
  if [ $regenerating -eq 1 ]; then
    echo "build-ptx: $1" >&2
    exit 1
  fi
  echo "build-ptx: WARNING: $1; the committed PTX in $committed is used" >&2
  rm -f "$out"/*.ptx "$out"/*.ptx.tmp
  exit 0
}

version="$("$nvcc" --version 2>&1 | tail -1)" || give_up "$nvcc does not run ($version)"
mkdir -p "$out"
pids=()
names=()
for src in "$here"/*.cu; do
  name="$(basename "$src" .cu)"
  target="$out/$name.ptx"
  # Up to date when newer than its source, every header and this script.
  if [ $regenerating -eq 0 ] && [ -f "$target" ] && [ -z "$(find "$here" \( -name '*.cu*' -o -name 'build-ptx.sh' \) -newer "$target" -print -quit)" ]; then
    continue
  fi
  (
    "$nvcc" -ptx -arch=compute_80 -O3 -std=c++17 -o "$target.tmp" "$src"
    sed -E "s/^\.version [0-9]+\.[0-9]+$/.version $isa/" "$target.tmp" > "$target"
    rm -f "$target.tmp"
  ) &
  pids+=($!)
  names+=("$name")
done
status=0
for pid in "${pids[@]+"${pids[@]}"}"; do
  wait "$pid" || status=1
done
[ $status -eq 0 ] || give_up "$nvcc failed on the kernels"
if [ -n "$ptxas" ]; then
  for name in "${names[@]+"${names[@]}"}"; do
    log="$("$ptxas" -arch=sm_80 -o /dev/null "$out/$name.ptx" 2>&1)" \
      || give_up "$name.ptx does not assemble as PTX ISA $isa (a feature newer than that? raise PTX_ISA): $log"
  done
fi
echo "build-ptx: PTX in $out is current (ISA $isa, $version)"
