#!/usr/bin/env python3
"""Writes the unrolled register-tile methods of LightConvSimd.java to stdout: convolveTiles16,
convolveTiles16By4 and convolveTiles8 (the convolution) and tapGradient16/8/4 (the weight gradient).

convolveTilesR keeps, for each tile of R output rows, R accumulators in registers through all the
taps, a chunk of weight vectors at a time, and loads every input row of a chunk once.
Java cannot express such an unrolled register tile generically, so it is generated. With 32 vector
registers (AVX-512): 16 rows with chunks of 8 taps keeps 16 independent FMA chains (8 + 16 + 1
registers), measured faster than 8 rows x 16 taps, whose 8 chains barely cover the FMA latency. With 16
(AVX2): 8 rows with chunks of 2 taps (8 + 2 registers and the input rows); the 16-row tile spills there. Paste the
output between the markers in src/main/java/org/attnkit/ops/lightconv/LightConvSimd.java.
"""
TILE = 16


def chunk(o, N, indent):
    """The FMAs of N taps from k0 on a tile: N weight vectors, each input row loaded once."""
    for k in range(N):
        o.append(f"{indent}FloatVector w{k} = FloatVector.fromArray(S, wp, wOff + (k0 + {k}) * L);")
    o.append(f"{indent}int xr = xOff + (tile * {TILE} + k0) * L;")
    o.append(f"{indent}FloatVector xv;")
    for j in range(TILE + N - 1):
        o.append(f"{indent}xv = FloatVector.fromArray(S, xp, xr + {j} * L);")
        for i in range(TILE):
            k = j - i
            if 0 <= k < N:
                o.append(f"{indent}a{i} = xv.fma(w{k}, a{i});")


DOC16 = """Sweeping all tiles once per chunk of 8 taps instead (weights in registers, partial
     * sums stored and reloaded at every chunk) took 1.7 ms for the taps of B=8 T=512 C=512 K=31 on one
     * thread with 64-row blocks and 1.0 ms with 512-row blocks; this takes 0.72-0.88 ms with any of
     * 64 to 512 (AVX-512)."""
DOC16BY4 = """For kp = 4 mod 8 ({@link #convolveTiles16} takes chunks of 8 only): the
     * taps of B=8 T=512 C=512 K=31 ran at 176-178 GFLOP/s on one AVX-512 core in chunks of 4, 192-199 in
     * chunks of 8."""
DOC8 = """For 16 vector registers (AVX2), where the 16-row tile spills: 8 accumulators, 2 weights and
     * the input rows. Chunks of 2 taps rather than 4 (whose 4 weights left C2 too few registers for the
     * input rows it loads ahead, so it spilled two accumulators): B=8 T=512 C=512 K=31 on an AVX2 Zen 3,
     * fastest of 10 calls in 20-30 alternating rounds, 1.46-1.50 vs 1.51-1.66 ms on two threads, 2.72 vs
     * 3.03 on one."""


def convolve_tiles(rows, n, name, doc):
    """Method `name`: tiles of `rows` rows, all taps in chunks of n (kp is a multiple of n).

    One chunk size per method, no tail chunk: with a 4-tap tail after the 8-tap loop in the same method,
    C2 spilled and reloaded the accumulators in the hot loop (59-60 stack moves among its 125-128 FMAs, 4
    without the tail), and the taps of B=8 T=512 C=512 K=31 ran at 111-122 GFLOP/s on one AVX-512 core
    instead of 192-199.
    """
    global TILE
    TILE = rows
    o = []
    o.append(f"""    /**
     * All kp taps (a multiple of {n}) of {rows}-row tiles of one channel vector, on panels (the input panel
     * from xp[xOff], rows L floats apart; the weights from wp[wOff]) into output rows ys floats apart from
     * yp[yOff] (an output panel, ys = L, or the output itself, ys = C): output row r reads panel rows
     * r .. r+kp-1. Each tile keeps its {rows} accumulators in registers
     * through all the taps, {n} at a time with their weight vectors loaded from L1, and stores
     * them once. {doc}
     * The tile starts from the bias vector at bias[biasOff] (zero when bias is null). (No
     * FloatVector parameters: a vector whose exact class C2 cannot see is not intrinsified, and every
     * operation on it would box.)
     */
    private static void {name}(float[] xp, int xOff, float[] wp, int wOff, int kp, float[] yp,
                                        int yOff, int ys, int tiles, float[] bias, int biasOff) {{""")
    o.append("        FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, biasOff);")
    o.append("        for (int tile = 0; tile < tiles; tile++) {")
    for i in range(rows):
        o.append(f"            FloatVector a{i} = init;")
    o.append(f"            for (int k0 = 0; k0 < kp; k0 += {n}) {{")
    chunk(o, n, "                ")
    o.append("            }")
    o.append(f"            int yr = yOff + tile * {rows} * ys;")
    for i in range(rows):
        o.append(f"            a{i}.intoArray(yp, yr + {i} * ys);")
    o.append("        }")
    o.append("    }")
    return "\n".join(o)


print(convolve_tiles(16, 8, "convolveTiles16", DOC16))
print()
print(convolve_tiles(16, 4, "convolveTiles16By4", DOC16BY4))
print()
print(convolve_tiles(8, 2, "convolveTiles8", DOC8))


# The weight gradient: dwp[k] += sum_r gp[r] * xp[r + k] over tiles of GTILE rows, for a chunk of M taps
# whose M partial sums stay in registers across the tiles; each tile loads its GTILE dy rows and each
# of its GTILE + M - 1 input rows once.
GTILE = 8
grad = []
for M in (16, 8, 4):
    o = []
    o.append(f"""    /**
     * dwp[(k0 + k)*L + lane] += sum over the rows r of the tiles of
     * gp[gOff + r*L + lane] * xp[xOff + (r + k0 + k)*L + lane], k < {M}: the {M} partial sums stay in
     * registers across the tiles of {GTILE} rows; each tile loads its dy rows and each of its input rows once.
     */
    private static void tapGradient{M}(float[] xp, int xOff, float[] gp, int gOff, float[] dwp, int k0, int tiles) {{""")
    for k in range(M):
        o.append(f"        FloatVector d{k} = FloatVector.fromArray(S, dwp, (k0 + {k}) * L);")
    o.append("        for (int tile = 0; tile < tiles; tile++) {")
    o.append(f"            int gr = gOff + tile * {GTILE} * L;")
    for i in range(GTILE):
        o.append(f"            FloatVector g{i} = FloatVector.fromArray(S, gp, gr + {i} * L);")
    o.append(f"            int xr = xOff + (tile * {GTILE} + k0) * L;")
    o.append("            FloatVector xv;")
    for j in range(GTILE + M - 1):
        o.append(f"            xv = FloatVector.fromArray(S, xp, xr + {j} * L);")
        for k in range(M):
            i = j - k
            if 0 <= i < GTILE:
                o.append(f"            d{k} = xv.fma(g{i}, d{k});")
    o.append("        }")
    for k in range(M):
        o.append(f"        d{k}.intoArray(dwp, (k0 + {k}) * L);")
    o.append("    }")
    grad.append("\n".join(o))
print()
print("\n\n".join(grad))
