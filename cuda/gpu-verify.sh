#!/usr/bin/env bash
# Run THERE (the GPU machine), with .gpu carried after `bash cuda/gpu-prepare.sh`
# here. Time-boxed stages; one that hangs is killed at its limit so the next one still runs:
#   bash cuda/gpu-verify.sh [STAGE...]
# STAGE, run in the order given (default: tests golden bench headline peer graph memcheck):
#   tests     the CUDA equivalence and no-GPU tests of every operator (GpuTests, one line per test)
#   graph     a whole training step on the device, the 50-step CPU-vs-CUDA loss curves
#   golden    attnkit check --backend cuda over the golden cases
#   kernels   each harness of .gpu/bench-bin.txz (cuda/tools/bench_*.cu, built by gpu-prepare.sh
#             through build-bench.sh): naive-GPU-reference checks, then CUDA-event timings
#   bench     CudaBench: LightConv/DynamicConv at B=16 T=4096 C=1024 H=16 K=31 against the copy bandwidth
#   attention CudaAttentionBench: attention and the MAE gated attention, fp32, B=8 H=16 T=4096 d=64
#   headline  attnkit bench --backend cuda (ops, GEMM precisions at 8192^3, attention B=8 H=16 T=4096 d=64)
#   sweep     lightconv, dynamicconv, attention on CUDA at T = 256..8192 into $OUT/sweep.jsonl (draw it here:
#             java --add-modules=jdk.incubator.vector -cp 'target/classes:target/lib/*' org.attnkit.bench.BenchPlot
#             docs/bench-scaling-gpu.png sweep.jsonl)
#   peer      bench/tools/gpu_peer.py (PyTorch: matmul, SDPA, conv forms); peersweep: its T sweep
#   memcheck, racecheck   compute-sanitizer over the fused operators' and tensor-core kernels' tests
# Logs: $OUT/stages.log (summary) and $OUT/logs.tgz (every stage's log; the device tool returns 8 files at most).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
L=$OUT/logs
mkdir -p "$L"
G=/tmp/attnkit-gpu
untar() { # untar ARCHIVE DIR: tar's xz where the machine has it, else Python's
  mkdir -p "$2"
  if command -v xz >/dev/null; then tar -C "$2" -xJf "$1"
  else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="tar")' "$1" "$2"; fi
}
[ -x "$G/jre/bin/java" ] || untar .gpu/bundle.txz "$G"
export PATH=$G/jre/bin:$PATH
CP="$G/classes:$G/test-classes:$G/tools:$G/lib/*"
FLAGS="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
C=org.attnkit.backend.cuda
step() { # step NAME SECONDS command...
  local name=$1 limit=$2; shift 2
  echo "== $name (limit ${limit}s) $(date +%T)" | tee -a "$OUT/stages.log"
  local t0=$SECONDS
  timeout -k 5 "$limit" "$@" > "$L/$name.log" 2>&1
  local rc=$?
  echo "== $name rc=$rc in $((SECONDS - t0))s" | tee -a "$OUT/stages.log"
  grep -E "^(FAIL|ABRT) |tests (successful|failed)|passed, |ERROR SUMMARY" "$L/$name.log" | grep -v "Assumption failed: a GPU is present" \
    | head -n 30 | tee -a "$OUT/stages.log"
  tail -n 3 "$L/$name.log"
}
{ nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv; java -version
  command -v compute-sanitizer; } > "$L/env.log" 2>&1
CORE="$C.CudaWithoutGpuTest $C.CudaEquivalenceTest $C.CudaGemmWithoutGpuTest $C.CudaGemmEquivalenceTest
  $C.CudaGemmMmaWithoutGpuTest $C.CudaGemmMmaEquivalenceTest $C.GemmPrecisionPropertyTest $C.CudaRowwiseWithoutGpuTest
  $C.CudaRowwiseEquivalenceTest $C.CudaPointwiseWithoutGpuTest $C.CudaPointwiseEquivalenceTest
  $C.CudaAttentionWithoutGpuTest $C.CudaAttentionEquivalenceTest $C.CudaGatedAttentionWithoutGpuTest
  $C.CudaGatedAttentionEquivalenceTest $C.CudaAttentionBf16WithoutGpuTest $C.CudaAttentionBf16EquivalenceTest"
# The sanitizers' cases: every fused operator and the tensor-core kernels on small shapes.
SANITIZED="$C.CudaEquivalenceTest $C.CudaAttentionEquivalenceTest $C.CudaGatedAttentionEquivalenceTest
  $C.CudaGemmMmaEquivalenceTest $C.CudaAttentionBf16EquivalenceTest $C.CudaRowwiseEquivalenceTest"
GRAPH="$C.CudaGraphWithoutGpuTest $C.CudaTrainingStepCoverageTest $C.CudaGraphEquivalenceTest $C.CudaTrainingStepTest"
CLI=(java $FLAGS -cp "$CP" org.attnkit.cli.Main)
for stage in ${*:-tests golden bench headline peer graph memcheck}; do
  case $stage in
    tests) step tests 150 java $FLAGS -cp "$CP" GpuTests $CORE ;;
    graph) step graph 120 java $FLAGS -cp "$CP" GpuTests $GRAPH ;;
    golden) step golden 40 "${CLI[@]}" check --backend cuda src/test/resources/golden ;;
    kernels) untar .gpu/bench-bin.txz /tmp/attnkit-bench
      for bin in /tmp/attnkit-bench/bin/bench_*; do [ -x "$bin" ] && step "$(basename "$bin")" 60 "$bin"; done ;;
    bench) step cudabench 60 java $FLAGS -cp "$CP" $C.CudaBench ;;
    attention) step attention 90 java $FLAGS -cp "$CP" $C.CudaAttentionBench ;;
    headline) step headline 90 "${CLI[@]}" bench --backend cuda --op gemm,attention,lightconv,dynamicconv ;;
    sweep) # JSON lines only: the machine has no fonts for the plot, which BenchPlot draws here from sweep.jsonl
      for T in 256 512 1024 2048 4096 8192; do
        step "sweep-T$T" 60 "${CLI[@]}" bench --backend cuda --json --no-headline --op lightconv,dynamicconv,attention --T $T
        grep '^{' "$L/sweep-T$T.log" >> "$OUT/sweep.jsonl"
      done ;;
    peer) step peer 75 python3 bench/tools/gpu_peer.py ;;
    peersweep) step peersweep 60 python3 bench/tools/gpu_peer.py sweep ;;
    # Without the memory pool, so that memcheck sees a use of freed memory as such.
    memcheck|racecheck) step "sanitizer-$stage" 150 compute-sanitizer --tool "$stage" --target-processes all \
      java $FLAGS -Dattnkit.cuda.cacheMemory=false -cp "$CP" GpuTests $SANITIZED ;;
    *) echo "unknown stage $stage" ;;
  esac
done
tar -C "$OUT" -czf "$OUT/logs.tgz" logs && rm -rf "$L"
ls -la "$OUT"
