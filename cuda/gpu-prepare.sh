#!/usr/bin/env bash
# Run HERE (the machine with nvcc, no GPU). Builds what the GPU machine needs and packs it into
# .gpu/bundle.txz (ignored by git; name ".gpu" in the device tool's `carry`, 64 MiB at most): a trimmed
# JRE, the classes with the JNI library, the test classes, the jars the CUDA tests need, and the
# GpuTests launcher. Then run `bash cuda/gpu-verify.sh` on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
exclude="$(git rev-parse --git-common-dir)/info/exclude"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo /.gpu/ >> "$exclude"
# sm_90 alone (the H200): a third of the compile time and of the JNI library's size. The next plain build
# compiles target/native for every architecture again.
mvn -B -q -o -DskipTests -Dattnkit.cuda.architectures=90-real package
# The kernel harnesses (cuda/tools/bench_*.cu) link against that same static library.
BUILD_DIR=target/native NVCC=/usr/local/cuda/bin/nvcc bash cuda/tools/build-bench.sh
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
stage=target/gpu-bundle
rm -rf "$stage/classes" "$stage/test-classes" "$stage/lib" "$stage/tools"
mkdir -p "$stage/lib" "$stage/tools" .gpu
if [ ! -x "$stage/jre/bin/java" ] || ! "$stage/jre/bin/java" --list-modules | grep -q java.desktop; then
  rm -rf "$stage/jre"
  /usr/lib/jvm/temurin-25-jdk-amd64/bin/jlink \
    --add-modules java.base,jdk.incubator.vector,jdk.unsupported,java.management,java.logging,jdk.management,java.desktop \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$stage/jre"
fi
cp -r target/classes "$stage/classes"
cp -r target/test-classes "$stage/test-classes"
# The jars of the test class path but PDF export's (about 3 MB of the 64 MiB the device tool carries): the CLI
# (`attnkit bench --backend cuda` runs there) needs the rest, since picocli reflects over every subcommand,
# reaching the progress bar of `train` and the charts of `--plot`.
for jar in $(tr ':' ' ' < target/test-classpath.txt); do
  case "$(basename "$jar")" in
    pdfbox*|fontbox*|commons-logging*) ;;
    *) cp "$jar" "$stage/lib/" ;;
  esac
done
# Of JCuda's natives only the driver API's library is loaded (JCudaDriverApi); the PTX compiler alone is 24 MB.
for jar in "$stage"/lib/jcuda-natives-*.jar; do
  zip -q -d "$jar" 'lib/libJNvPTXCompiler-*' 'lib/libJCudaRuntime-*' 'lib/libJNvrtc-*'
done
cp ~/.m2/repository/org/junit/platform/junit-platform-launcher/1.14.1/junit-platform-launcher-1.14.1.jar "$stage/lib/"
javac --release 17 -cp "$stage/lib/*" -d "$stage/tools" cuda/tools/GpuTests.java
# xz, not gzip: 51 against 60 MB, with the harnesses well inside the 64 MiB that travel.
rm -f .gpu/bundle.tgz .gpu/bench-bin.tgz
tar -C "$stage" -cf - . | xz -6 -T2 > .gpu/bundle.txz
# The kernel harnesses (cuda/tools/build-bench.sh puts them in .gpu/bin) travel compressed too.
if [ -d .gpu/bin ]; then tar -C .gpu -cf - bin | xz -6 -T2 > .gpu/bench-bin.txz && rm -rf .gpu/bin; fi
ls -l .gpu/
