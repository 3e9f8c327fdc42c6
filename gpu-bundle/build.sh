#!/usr/bin/env bash
# Builds the self-contained GPU self-test bundle for a GPU machine without Java or network:
#   gpu-bundle/target/pflash-gpu-selftest/         run.sh, runtime/ (jlink), lib/ (jars), sample-data/
#   gpu-bundle/target/pflash-gpu-selftest.tar.gz
# Usage, from anywhere:   gpu-bundle/build.sh [OUT_DIR]
# Needs a JDK 17 (jlink, jdeps) and Maven with access to Maven Central; fails if the bundle
# folder reaches 64 MiB.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/gpu-bundle/target}" && cd "${1:-$root/gpu-bundle/target}" && pwd)"
name=pflash-gpu-selftest
bundle="$out/$name"
build="$out/maven"
limit=$((64 * 1024 * 1024))

echo "building gpu-runtime and its test jar"
rm -rf "$build/pflash-gpu-runtime/bundle-lib"
mvn -B -q -f "$root/pom.xml" -pl gpu-runtime -am -Pgpu-bundle -DskipTests \
    "-Dpflash.target=$build/\${project.artifactId}" package
module="$build/pflash-gpu-runtime"

rm -rf "$bundle"
mkdir -p "$bundle/lib" "$bundle/sample-data/models" "$bundle/work"
cp "$module"/pflash-gpu-runtime-*.jar "$bundle/lib/"
for jar in "$module"/bundle-lib/*.jar; do
  case "$(basename "$jar")" in
    jcuda-natives-*) ;;
    *) cp "$jar" "$bundle/lib/" ;;
  esac
done

# JCuda's natives jar also carries the runtime, NVRTC and PTX-compiler bindings (about 25 MB);
# the backend uses the driver API only, so keep just that library.
natives="$(ls "$module"/bundle-lib/jcuda-natives-*.jar)"
unpacked="$out/natives"
rm -rf "$unpacked"
mkdir -p "$unpacked"
(cd "$unpacked" && jar --extract --file "$natives")
find "$unpacked/lib" -type f ! -name 'libJCudaDriver-*' -delete
jar --create --file "$bundle/lib/$(basename "$natives" .jar)-driver-only.jar" -C "$unpacked" lib
rm -rf "$unpacked"

echo "linking a Java runtime with the modules the jars use"
modules="$(jdeps --multi-release 17 --ignore-missing-deps --print-module-deps "$bundle"/lib/*.jar 2>/dev/null | tail -1)"
# Found only at run time: jdk.zipfs (JUnit's class path scanning of jars) and jdk.unsupported
# (sun.misc.Unsafe, which JCuda's and AssertJ's dependencies may reach reflectively), and
# jdk.incubator.vector, which run.sh adds for the CPU backend's kernels (the CPU side of the parity tests).
modules="$modules,jdk.zipfs,jdk.unsupported,jdk.incubator.vector"
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
    --output "$bundle/runtime"

cp "$root"/sample-data/models/demo-*.gguf "$bundle/sample-data/models/"
cp "$root/gpu-bundle/run.sh" "$bundle/run.sh"
chmod +x "$bundle/run.sh"

size=$(du -sb "$bundle" | cut -f1)
tar -czf "$out/$name.tar.gz" -C "$out" "$name"
echo "bundle: $bundle ($((size / 1024 / 1024)) MiB; modules $modules)"
echo "archive: $out/$name.tar.gz ($(($(stat -c %s "$out/$name.tar.gz") / 1024 / 1024)) MiB)"
if [ "$size" -ge "$limit" ]; then
  echo "the bundle is $size bytes, over the 64 MiB limit" >&2
  exit 1
fi
