#!/usr/bin/env bash
# Run THERE (the GPU machine), with .gpu carried after `bash cuda/gpu-prepare.sh` here. Time-boxed stages; each
# stage's log lands in $OUT, and one that hangs is killed at its limit so the next one still runs:
#   bash cuda/gpu-verify.sh [STAGE...]
# STAGE: tests graph golden bench headline peer memcheck racecheck, run in the order given (when none is named:
# tests golden bench headline peer graph memcheck - the order that matters when device time is short).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
G=/tmp/attnkit-gpu
[ -x "$G/jre/bin/java" ] || { mkdir -p "$G" && tar -C "$G" -xzf .gpu/bundle.tgz; }
export PATH=$G/jre/bin:$PATH
CP="$G/classes:$G/test-classes:$G/tools:$G/lib/*"
FLAGS="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
C=org.attnkit.backend.cuda
step() { # step NAME SECONDS command...
  local name=$1 limit=$2; shift 2
  echo "== $name (limit ${limit}s) $(date +%T)" | tee -a "$OUT/stages.log"
  local t0=$SECONDS
  timeout -k 5 "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "== $name rc=$rc in $((SECONDS - t0))s" | tee -a "$OUT/stages.log"
  tail -n 4 "$OUT/$name.log"
}
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv; java -version
  command -v compute-sanitizer; } 2>&1 | tee "$OUT/env.log"
CORE="$C.CudaWithoutGpuTest $C.CudaEquivalenceTest $C.CudaGemmWithoutGpuTest $C.CudaGemmEquivalenceTest
  $C.CudaGemmMmaWithoutGpuTest $C.CudaGemmMmaEquivalenceTest $C.GemmPrecisionPropertyTest $C.CudaRowwiseWithoutGpuTest
  $C.CudaRowwiseEquivalenceTest $C.CudaPointwiseWithoutGpuTest $C.CudaPointwiseEquivalenceTest
  $C.CudaAttentionWithoutGpuTest $C.CudaAttentionEquivalenceTest $C.CudaGatedAttentionWithoutGpuTest
  $C.CudaGatedAttentionEquivalenceTest $C.CudaAttentionBf16WithoutGpuTest $C.CudaAttentionBf16EquivalenceTest"
GRAPH="$C.CudaGraphWithoutGpuTest $C.CudaTrainingStepCoverageTest $C.CudaGraphEquivalenceTest $C.CudaTrainingStepTest"
for stage in ${*:-tests golden bench headline peer graph memcheck}; do
  case $stage in
    tests) step tests 150 java $FLAGS -cp "$CP" GpuTests $CORE ;;
    graph) step graph 120 java $FLAGS -cp "$CP" GpuTests $GRAPH ;;
    golden) step golden 40 java $FLAGS -cp "$CP" org.attnkit.cli.Main check --backend cuda src/test/resources/golden ;;
    bench) step cudabench 60 java $FLAGS -cp "$CP" $C.CudaBench ;;
    headline) step headline 90 java $FLAGS -cp "$CP" org.attnkit.cli.Main bench --backend cuda \
      --op gemm,attention,lightconv,dynamicconv ;;
    peer) step peer 75 python3 bench/tools/gpu_peer.py ;;
    memcheck|racecheck) step "sanitizer-$stage" 90 compute-sanitizer --tool "$stage" --target-processes all \
      java $FLAGS -cp "$CP" GpuTests $C.CudaEquivalenceTest ;;
    *) echo "unknown stage $stage" ;;
  esac
done
ls -la "$OUT"
