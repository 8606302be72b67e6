#!/usr/bin/env python3
"""Writes the unrolled register-tile methods of LightConvSimd.java to stdout: convolveTiles (the
convolution) and tapGradient8/tapGradient4 (the weight gradient).

convolveTiles keeps, for each tile of TILE output rows, TILE accumulators in registers through all the
taps, 8 weight vectors at a time, and loads every input row of a chunk once.
Java cannot express such an unrolled register tile generically, so it is generated. TILE = 16 rows
with chunks of 8 taps keeps 16 independent FMA chains (8 + 16 + 1 vector registers): measured faster
than 8 rows x 16 taps, whose 8 chains barely cover the FMA latency. Paste the output
between the markers in src/main/java/org/attnkit/ops/lightconv/LightConvSimd.java.
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


o = []
o.append(f"""    /**
     * All kp taps (a multiple of 4) of {TILE}-row tiles of one channel vector, on panels (rows L floats
     * apart, the input panel from xp[xOff], the output panel from yp[yOff], the weights from wp[wOff]):
     * output row r reads panel rows r .. r+kp-1. Each tile keeps its {TILE} accumulators in registers
     * through all the taps, 8 (then 4) at a time with their weight vectors loaded from L1, and stores
     * them once. Sweeping all tiles once per chunk of 8 taps instead (weights in registers, partial
     * sums stored and reloaded at every chunk) took 1.7 ms for the taps of B=8 T=512 C=512 K=31 on one
     * thread with 64-row blocks and 1.0 ms with 512-row blocks; this takes 0.72-0.88 ms with any of
     * 64 to 512. The tile starts from the bias vector at bias[biasOff] (zero when bias is null). (No
     * FloatVector parameters: a vector whose exact class C2 cannot see is not intrinsified, and every
     * operation on it would box.)
     */
    private static void convolveTiles(float[] xp, int xOff, float[] wp, int wOff, int kp, float[] yp, int yOff,
                                      int tiles, float[] bias, int biasOff) {{""")
o.append("        FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, biasOff);")
o.append("        for (int tile = 0; tile < tiles; tile++) {")
for i in range(TILE):
    o.append(f"            FloatVector a{i} = init;")
o.append("            int k0 = 0;")
o.append("            for (; k0 + 8 <= kp; k0 += 8) {")
chunk(o, 8, "                ")
o.append("            }")
o.append("            if (k0 < kp) { // the last 4 taps")
chunk(o, 4, "                ")
o.append("            }")
o.append(f"            int yr = yOff + tile * {TILE} * L;")
for i in range(TILE):
    o.append(f"            a{i}.intoArray(yp, yr + {i} * L);")
o.append("        }")
o.append("    }")
print("\n".join(o))


# The weight gradient: dwp[k] += sum_r gp[r] * xp[r + k] over tiles of GTILE rows, for a chunk of M taps
# whose M partial sums stay in registers across the tiles; each tile loads its GTILE dy rows and each
# of its GTILE + M - 1 input rows once.
GTILE = 8
grad = []
for M in (8, 4):
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
