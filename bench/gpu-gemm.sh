#!/usr/bin/env bash
# The GEMM piece of issue 5 on the GPU machine. Here: `bash cuda/gpu-prepare.sh` (it bundles the classes, the
# test classes and the CLI's jars). There, with .gpu carried: `bash bench/gpu-gemm.sh` -> logs under $OUT:
#   1. the GEMM tests (tensor-core GEMMs, epilogues, precision, no-GPU checks),
#   2. compute-sanitizer memcheck/racecheck on them,
#   3. `attnkit bench --backend cuda` rows (CUDA events): ops, GEMM fp32/tf32/bf16-buffers, attention headline,
#   4. the T sweep of lightconv, dynamicconv and attention as JSON lines (draw the PNG from them, there or back
#      here, with `java -Djava.awt.headless=true -cp <classes>:<deps> org.attnkit.bench.BenchPlot gpu-T.png sweep.jsonl`),
#   5. the PyTorch peer at the same shapes, timed with torch.cuda.Event.
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
java $FLAGS -cp "$CP" GpuTests $C.CudaGemmWithoutGpuTest $C.CudaGemmMmaWithoutGpuTest $C.CudaGemmEquivalenceTest \
  $C.CudaGemmMmaEquivalenceTest 2>&1 | tee "$OUT/gemm-tests.log"
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    compute-sanitizer --tool $tool --target-processes all java $FLAGS -cp "$CP" GpuTests \
      $C.CudaGemmMmaEquivalenceTest 2>&1 | tail -40 | tee "$OUT/gemm-sanitizer-$tool.log"
  done
fi
bench() { java $FLAGS -cp "$CP" org.attnkit.cli.Main bench --backend cuda "$@"; }
bench --op gemm,linear,attention,lightconv,dynamicconv 2>&1 | tee "$OUT/bench-cuda.txt"
java $FLAGS -Dattnkit.cuda.gemm=tf32 -cp "$CP" org.attnkit.cli.Main bench --backend cuda --no-headline \
  --op gemm,linear 2>&1 | tee "$OUT/bench-cuda-tf32.txt"
bench --json --op gemm,attention > "$OUT/bench-cuda.jsonl" 2> "$OUT/bench-cuda.err"
: > "$OUT/sweep.jsonl"
for T in 64 128 256 512 1024 2048 4096 8192; do
  bench --json --no-headline --op lightconv,dynamicconv,attention --T $T >> "$OUT/sweep.jsonl" 2>> "$OUT/sweep.err"
done
python3 - <<'PY' 2>&1 | tee "$OUT/torch-peer.log"
import json, torch, torch.nn.functional as F
def ms(f, reps=20):
    for _ in range(3): f()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    t = []
    for _ in range(reps):
        s.record(); f(); e.record(); torch.cuda.synchronize(); t.append(s.elapsed_time(e))
    t.sort(); return t[len(t) // 2]
for m, n, k in [(8192, 8192, 8192), (4096, 512, 512)]:
    for prec in ["fp32", "tf32", "bf16"]:
        torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
        dt = torch.bfloat16 if prec == "bf16" else torch.float32
        # b as attnkit's bf16-buffer row stores it: w [N, K], product a w^T
        a = torch.randn(m, k, device="cuda", dtype=dt); w = torch.randn(n, k, device="cuda", dtype=dt)
        t = ms(lambda: a @ w.t())
        print(json.dumps({"peer": "torch.matmul", "precision": prec, "M": m, "N": n, "K": k, "ms": t,
                          "tflops": 2 * m * n * k / t / 1e9}))
torch.backends.cuda.matmul.allow_tf32 = False
B, H, T, d = 8, 16, 4096, 64
q, k, v = (torch.randn(B, H, T, d, device="cuda", requires_grad=True) for _ in range(3))
fwd = ms(lambda: F.scaled_dot_product_attention(q, k, v))
dy = torch.randn(B, H, T, d, device="cuda")
def fb():
    y = F.scaled_dot_product_attention(q, k, v); y.backward(dy)
print(json.dumps({"peer": "sdpa fp32", "B": B, "H": H, "T": T, "d": d, "fwd_ms": fwd, "fwdbwd_ms": ms(fb)}))
B, C, Hc, K = 8, 512, 8, 31
for T in [64, 128, 256, 512, 1024, 2048, 4096, 8192]:
    x = torch.randn(B, T, C, device="cuda"); w = torch.randn(Hc, K, device="cuda")
    wd = torch.randn(Hc * K, C, device="cuda") / C ** 0.5
    def lightconv():
        wn = torch.softmax(w, -1).repeat_interleave(C // Hc, 0).unsqueeze(1)
        return F.conv1d(x.transpose(1, 2), wn, padding=K // 2, groups=C).transpose(1, 2)
    def dynconv():
        g = torch.softmax((x @ wd.t()).view(B, T, Hc, K), -1)
        xu = F.pad(x, (0, 0, K // 2, K - 1 - K // 2)).unfold(1, K, 1).reshape(B, T, Hc, C // Hc, K)
        return torch.einsum("bthk,bthrk->bthr", g, xu).reshape(B, T, C)
    qa = x.view(B, T, Hc, C // Hc).transpose(1, 2)
    print(json.dumps({"peer": "sweep", "T": T, "lightconv_ms": ms(lightconv), "dynamicconv_ms": ms(dynconv),
                      "attention_ms": ms(lambda: F.scaled_dot_product_attention(qa, qa, qa))}))
PY
ls -la "$OUT"
