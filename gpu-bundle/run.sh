#!/usr/bin/env bash
# PFlash GPU self-test. Runs, with the Java runtime in this folder (no Java or network needed):
#   1. a probe of the CUDA driver and device,
#   2. the GPU parity tests (every kernel against the CPU op, whole-model logits, PFlash chunk
#      selection overlap), JUnit tag "gpu",
#   3. the GPU benchmark (matrix multiply against the card's peak, dense prefill, PFlash vs dense
#      time to first token),
# and writes the report into report/ (or $REPORT_DIR).
#
#   ./run.sh [--quick] [--tests-only | --benchmark-only]
#
# Exit codes: 0 all passed, 1 a GPU test failed, 2 the benchmark failed, 3 no usable CUDA GPU
# (said in one line), 4 this bundle is incomplete.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
java="$here/runtime/bin/java"
report="${REPORT_DIR:-$here/report}"
quick=""
tests=1
bench=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick="--quick" ;;
    --tests-only) bench=0 ;;
    --benchmark-only) tests=0 ;;
    *) echo "unknown argument $arg; use --quick, --tests-only or --benchmark-only" >&2; exit 4 ;;
  esac
done
if [ ! -x "$java" ] || [ ! -d "$here/lib" ]; then
  echo "incomplete bundle: $java or $here/lib is missing; rebuild it with gpu-bundle/build.sh" >&2
  exit 4
fi
cp="$here/lib/*"
jvm=(-XX:MaxRAMPercentage=70 --add-modules=jdk.incubator.vector -Dorg.slf4j.simpleLogger.showDateTime=true
     -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS)

probe="$("$java" -cp "$cp" dev.pflash.runtime.backend.cuda.GpuProbeCommand 2>/dev/null)"
case $? in
  0) echo "$probe" ;;
  3) echo "$probe"; exit 3 ;;
  *) echo "the CUDA probe itself failed: $probe" >&2; exit 4 ;;
esac

mkdir -p "$report"
echo "$probe" > "$report/device.txt"
# The tests find the demo models at ../sample-data/models, as they do from gpu-runtime/.
cd "$here/work"
tests_rc=0
bench_rc=0
if [ $tests -eq 1 ]; then
  "$java" "${jvm[@]}" -cp "$cp" org.junit.platform.console.ConsoleLauncher execute --disable-banner \
      --select-package dev.pflash.runtime.backend.cuda --include-tag gpu --fail-if-no-tests \
      --details=tree --reports-dir "$report/junit" 2>&1 | tee "$report/tests.log"
  tests_rc=${PIPESTATUS[0]}
fi
if [ $bench -eq 1 ]; then
  "$java" "${jvm[@]}" -cp "$cp" dev.pflash.runtime.backend.cuda.GpuBenchmark --out="$report" $quick 2>&1 \
      | tee "$report/benchmark.log"
  bench_rc=${PIPESTATUS[0]}
fi

{
  echo "$probe"
  [ $tests -eq 1 ] && echo "GPU tests: $([ $tests_rc -eq 0 ] && echo passed || echo "FAILED (exit $tests_rc)")"
  [ $bench -eq 1 ] && echo "GPU benchmark: $([ $bench_rc -eq 0 ] && echo "done, see benchmark.md" || echo "FAILED (exit $bench_rc)")"
} | tee "$report/summary.txt"
[ $bench -eq 1 ] && [ -f "$report/benchmark.md" ] && cat "$report/benchmark.md"
if [ $tests_rc -ne 0 ]; then
  exit 1
fi
if [ $bench_rc -ne 0 ]; then
  exit 2
fi
exit 0
