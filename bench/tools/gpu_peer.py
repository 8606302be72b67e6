"""The PyTorch peer of attnkit's CUDA rows, timed with torch.cuda.Event on the GPU machine (medians).

Prints one JSON object per line: GEMM (fp32, tf32, bf16) at 8192^3, SDPA forward at B=8 H=16 T=4096 d=64
(fp32 and bf16, plain and causal), and LightConv / DynamicConv forward and LightConv forward+backward at the
CUDA issue's shape B=16 T=4096 C=1024 H=16 K=31 (grouped conv1d + softmax; the unfold/einsum form).
"sweep": forward time against T of the three mixers at `attnkit bench`'s shape B=8 C=512 H=8 K=31 (attention
as fp32 SDPA, d = 64), the peer of `attnkit bench --backend cuda --plot ... --plot-T ...`.
Usage: python3 bench/tools/gpu_peer.py [gemm] [sdpa] [conv] [sweep]   (the first three when none is named)
"""
import json
import sys

import torch
import torch.nn.functional as F


def ms(f, reps=10):
    for _ in range(2):
        f()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    t = []
    for _ in range(reps):
        s.record(); f(); e.record(); e.synchronize(); t.append(s.elapsed_time(e))
    t.sort()
    return t[len(t) // 2]


def emit(**kv):
    print(json.dumps(kv), flush=True)


parts = set(sys.argv[1:]) or {"gemm", "sdpa", "conv"}
emit(peer="torch", version=torch.__version__, device=torch.cuda.get_device_name())
if "gemm" in parts:
    m = n = k = 8192
    for prec in ["fp32", "tf32", "bf16"]:
        torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
        dt = torch.bfloat16 if prec == "bf16" else torch.float32
        a = torch.randn(m, k, device="cuda", dtype=dt); w = torch.randn(n, k, device="cuda", dtype=dt)
        t = ms(lambda: a @ w.t(), reps=5)
        emit(peer="torch.matmul", precision=prec, M=m, N=n, K=k, ms=t, tflops=2 * m * n * k / t / 1e9)
        del a, w
    torch.backends.cuda.matmul.allow_tf32 = False
if "sdpa" in parts:
    B, H, T, d = 8, 16, 4096, 64
    for dtype in (torch.float32, torch.bfloat16):
        q, k_, v = (torch.randn(B, H, T, d, device="cuda", dtype=dtype) for _ in range(3))
        for causal in (False, True):
            t = ms(lambda: F.scaled_dot_product_attention(q, k_, v, is_causal=causal))
            flops = 4 * B * H * T * T * d / (2 if causal else 1)
            emit(peer="sdpa", dtype=str(dtype), causal=causal, B=B, H=H, T=T, d=d, ms=t, tflops=flops / t / 1e9)
        del q, k_, v
if "conv" in parts:
    B, T, C, H, K = 16, 4096, 1024, 16, 31
    x = torch.randn(B, T, C, device="cuda", requires_grad=True)
    w = torch.randn(H, K, device="cuda", requires_grad=True)
    wd = torch.randn(H * K, C, device="cuda") / C ** 0.5

    def lightconv():
        wn = torch.softmax(w, -1).repeat_interleave(C // H, 0).unsqueeze(1)  # [C,1,K]
        return F.conv1d(x.transpose(1, 2), wn, padding=K // 2, groups=C).transpose(1, 2)

    def dynconv():
        g = torch.softmax((x @ wd.t()).view(B, T, H, K), -1)
        xu = F.pad(x, (0, 0, K // 2, K - 1 - K // 2)).unfold(1, K, 1).reshape(B, T, H, C // H, K)
        return torch.einsum("bthk,bthrk->bthr", g, xu).reshape(B, T, C)

    dy = torch.randn(B, T, C, device="cuda")
    with torch.no_grad():
        emit(peer="lightconv fwd", B=B, T=T, C=C, H=H, K=K, ms=ms(lightconv))
        emit(peer="dynamicconv fwd", B=B, T=T, C=C, H=H, K=K, ms=ms(dynconv, reps=5))
    emit(peer="lightconv fwd+bwd", B=B, T=T, C=C, H=H, K=K,
         ms=ms(lambda: torch.autograd.grad(lightconv(), (x, w), dy)))
    nbytes = 2 * B * T * C * 4
    src = torch.empty(B * T * C, device="cuda"); dst = torch.empty_like(src)
    emit(peer="copy", bytes_rw=nbytes, ms=ms(lambda: dst.copy_(src)), gbps=nbytes / ms(lambda: dst.copy_(src)) / 1e6)
if "sweep" in parts:
    B, C, H, K = 8, 512, 8, 31
    for T in [int(t) for t in "256,512,1024,2048,4096,8192".split(",")]:
        x = torch.randn(B, T, C, device="cuda"); w = torch.randn(H, K, device="cuda")
        wd = torch.randn(H * K, C, device="cuda") / C ** 0.5

        def lightconv():
            wn = torch.softmax(w, -1).repeat_interleave(C // H, 0).unsqueeze(1)
            return F.conv1d(x.transpose(1, 2), wn, padding=K // 2, groups=C).transpose(1, 2)

        def dynconv():
            g = torch.softmax((x @ wd.t()).view(B, T, H, K), -1)
            xu = F.pad(x, (0, 0, K // 2, K - 1 - K // 2)).unfold(1, K, 1).reshape(B, T, H, C // H, K)
            return torch.einsum("bthk,bthrk->bthr", g, xu).reshape(B, T, C)

        qa = x.view(B, T, H, C // H).transpose(1, 2)
        with torch.no_grad():
            emit(peer="sweep", B=B, T=T, C=C, H=H, K=K, lightconv_ms=ms(lightconv), dynamicconv_ms=ms(dynconv),
                 attention_ms=ms(lambda: F.scaled_dot_product_attention(qa, qa, qa)))
