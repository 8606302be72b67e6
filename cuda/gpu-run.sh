#!/usr/bin/env bash
# Run THERE (the GPU machine), after cuda/gpu-prepare.sh here and with .gpu carried (it holds bundle.tgz):
#   bash cuda/gpu-run.sh    -> logs under $OUT (or ./gpu-out)
# 1. the CUDA tests (equivalence against the reference, determinism, memory), 2. compute-sanitizer
# memcheck and racecheck on the small equivalence cases, 3. the benchmark at the issue's shape, 4. the
# PyTorch peer in the same call.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
G=/tmp/attnkit-gpu
rm -rf "$G" && mkdir -p "$G" && tar -C "$G" -xzf .gpu/bundle.tgz
export PATH=$G/jre/bin:$PATH
CP="$G/classes:$G/test-classes:$G/tools:$G/lib/*"
FLAGS="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
{ nvidia-smi; java -version; } 2>&1 | tee "$OUT/env.log"
C=org.attnkit.backend.cuda
java $FLAGS -cp "$CP" GpuTests $C.CudaWithoutGpuTest $C.CudaEquivalenceTest $C.CudaGemmWithoutGpuTest $C.CudaGemmMmaWithoutGpuTest $C.CudaGemmMmaEquivalenceTest \
  $C.CudaGemmEquivalenceTest $C.CudaRowwiseWithoutGpuTest $C.CudaRowwiseEquivalenceTest \
  $C.CudaPointwiseWithoutGpuTest $C.CudaPointwiseEquivalenceTest $C.CudaAttentionWithoutGpuTest \
  $C.CudaAttentionEquivalenceTest $C.CudaGatedAttentionWithoutGpuTest $C.CudaGatedAttentionEquivalenceTest \
  2>&1 | tee "$OUT/tests.log"
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    compute-sanitizer --tool $tool --target-processes all java $FLAGS -cp "$CP" GpuTests \
      $C.CudaEquivalenceTest $C.CudaGemmEquivalenceTest $C.CudaGemmMmaEquivalenceTest $C.CudaRowwiseEquivalenceTest \
      $C.CudaPointwiseEquivalenceTest $C.CudaAttentionEquivalenceTest $C.CudaGatedAttentionEquivalenceTest 2>&1 | tail -40 | tee "$OUT/sanitizer-$tool.log"
  done
fi
# issue 5, a whole training step on the device (cuda-graph): its tests, then memcheck on its kernels.
java $FLAGS -cp "$CP" GpuTests $C.CudaGraphWithoutGpuTest $C.CudaTrainingStepCoverageTest $C.CudaGraphEquivalenceTest \
  $C.CudaTrainingStepTest 2>&1 | tee "$OUT/tests-graph.log"
if command -v compute-sanitizer >/dev/null; then
  compute-sanitizer --tool memcheck --target-processes all java $FLAGS -cp "$CP" GpuTests \
    $C.CudaGraphEquivalenceTest 2>&1 | tail -40 | tee "$OUT/sanitizer-graph-memcheck.log"
fi
java $FLAGS -cp "$CP" org.attnkit.backend.cuda.CudaBench 2>&1 | tee "$OUT/bench.log"
java $FLAGS -cp "$CP" org.attnkit.backend.cuda.CudaAttentionBench 2>&1 | tee "$OUT/bench-attention.log"
python3 - <<'PY' 2>&1 | tee "$OUT/torch-attention-peer.log"
import torch, torch.nn.functional as F
B, H, T, d = 8, 16, 4096, 64
for dtype in (torch.float32, torch.bfloat16):
    q, k, v = (torch.randn(B, H, T, d, device="cuda", dtype=dtype) for _ in range(3))
    for causal in (False, True):
        f = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        f(); torch.cuda.synchronize()
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        ts = []
        for _ in range(10):
            s.record(); f(); e.record(); e.synchronize(); ts.append(s.elapsed_time(e))
        ts.sort(); flops = 4 * B * H * T * T * d / (2 if causal else 1)
        print(f"torch sdpa {str(dtype):15s} causal={causal!s:5s} {ts[5]:9.3f} ms {flops / (ts[5] * 1e9):7.2f} TFLOP/s")
PY
python3 - <<'PY' 2>&1 | tee "$OUT/torch-peer.log"
import torch, torch.nn.functional as F
B, T, C, H, K = 16, 4096, 1024, 16, 31
x = torch.randn(B, T, C, device="cuda"); w = torch.randn(H, K, device="cuda")
def lightconv():
    wn = torch.softmax(w, -1).repeat_interleave(C // H, 0).unsqueeze(1)  # [C,1,K]
    return F.conv1d(x.transpose(1, 2), wn, padding=K // 2, groups=C).transpose(1, 2)
wd = torch.randn(H * K, C, device="cuda") / C ** 0.5
def dynconv():
    g = torch.softmax((x @ wd.t()).view(B, T, H, K), -1)
    xu = F.pad(x, (0, 0, K // 2, K - 1 - K // 2)).unfold(1, K, 1).view(B, T, H, C // H, K)
    return torch.einsum("bthrk,bthk->bthr", xu, g).reshape(B, T, C)
for name, f in [("torch lightconv forward", lightconv), ("torch dynamicconv forward", dynconv)]:
    f(); torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ts = []
    for _ in range(20):
        s.record(); f(); e.record(); e.synchronize(); ts.append(s.elapsed_time(e))
    ts.sort(); print(f"{name:36s} {ts[10]:9.3f} ms")
PY
java $FLAGS -cp "$CP" GpuTests $C.CudaAttentionBf16WithoutGpuTest $C.CudaAttentionBf16EquivalenceTest 2>&1 | tee "$OUT/tests-attention-bf16.log"; java $FLAGS -cp "$CP" org.attnkit.cli.Main bench --backend cuda --op attention 2>&1 | tee "$OUT/bench-attention-bf16.txt"  # issue 5, bf16 tensor-core attention forward (cuda-attn-bf16): its tests, then the attention headline rows (bf16-buffers rows vs torch-attention-peer.log above, same call)
