#!/usr/bin/env bash
# Run HERE (the machine with nvcc, no GPU): builds everything the GPU machine needs into .gpu/ (ignored
# by git; name it in the device tool's `carry`): a trimmed JRE, the classes, the test classes, the
# dependency jars, and the GpuTests launcher. Then run cuda/gpu-run.sh on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >> "$(git rev-parse --git-common-dir)/info/exclude" || true
mvn -B -q -o -DskipTests package
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
rm -rf .gpu && mkdir -p .gpu/lib .gpu/tools
if [ ! -d .gpu/jre ]; then
  /usr/lib/jvm/temurin-25-jdk-amd64/bin/jlink \
    --add-modules java.base,jdk.incubator.vector,jdk.unsupported,java.management,java.logging,jdk.management \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output .gpu/jre
fi
cp -r target/classes .gpu/classes
cp -r target/test-classes .gpu/test-classes
tr ':' '\n' < target/test-classpath.txt | while read -r jar; do cp "$jar" .gpu/lib/; done
cp ~/.m2/repository/org/junit/platform/junit-platform-launcher/1.14.1/junit-platform-launcher-1.14.1.jar .gpu/lib/
javac --release 17 -cp ".gpu/lib/*" -d .gpu/tools cuda/tools/GpuTests.java
du -sh .gpu
