#!/usr/bin/env python3
"""Writes the unrolled tap-chunk methods taps8/taps4 of LightConvSimd.java to stdout.

Each method keeps N weight vectors in registers for all the tiles of a panel, and for each tile of
TILE output rows keeps TILE accumulators in registers and loads every input row of the tile once.
Java cannot express such an unrolled register tile generically, so it is generated. TILE = 16 rows
with chunks of 8 taps keeps 16 independent FMA chains (8 + 16 + 1 vector registers): measured faster
than 8 rows x 16 taps, whose 8 chains barely cover the FMA latency. Paste the output
between the markers in src/main/java/org/attnkit/ops/lightconv/LightConvSimd.java.
"""
TILE = 16
out = []
for N in (8, 4):
    o = []
    o.append(f"""    /**
     * Taps [k0, k0+{N}) of {TILE}-row tiles of one channel vector, on panels (rows L floats apart): {N}
     * weight vectors stay in registers across the tiles, each tile keeps {TILE} accumulators in
     * registers and loads each of its input rows once. Output row r reads panel rows r+k0 .. r+k0+{N - 1}.
     * {{@code first}} starts from the bias vector at {{@code bias[biasOff]}} (zero when bias is null),
     * otherwise from the partial sums already in yp. (No FloatVector parameters: a vector whose exact
     * class C2 cannot see is not intrinsified, and every operation on it would box.)
     */
    private static void taps{N}(float[] xp, float[] wp, int wOff, int k0, float[] yp, int tiles, float[] bias,
                               int biasOff, boolean first) {{""")
    o.append("        FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, biasOff);")
    for k in range(N):
        o.append(f"        FloatVector w{k} = FloatVector.fromArray(S, wp, wOff + {k} * L);")
    o.append("        for (int tile = 0; tile < tiles; tile++) {")
    o.append(f"            int yr = tile * {TILE} * L;")
    for i in range(TILE):
        o.append(f"            FloatVector a{i} = first ? init : FloatVector.fromArray(S, yp, yr + {i} * L);")
    o.append(f"            int xr = (tile * {TILE} + k0) * L;")
    o.append("            FloatVector xv;")
    for j in range(TILE + N - 1):
        o.append(f"            xv = FloatVector.fromArray(S, xp, xr + {j} * L);")
        for i in range(TILE):
            k = j - i
            if 0 <= k < N:
                o.append(f"            a{i} = xv.fma(w{k}, a{i});")
    for i in range(TILE):
        o.append(f"            a{i}.intoArray(yp, yr + {i} * L);")
    o.append("        }")
    o.append("    }")
    out.append("\n".join(o))
print("\n\n".join(out))

# The weight gradient: dwp[k] += sum_r gp[r] * xp[r + k] over tiles of GTILE rows, for a chunk of M taps
# whose M partial sums stay in registers across the tiles; each tile loads its GTILE dy rows and each
# of its GTILE + M - 1 input rows once.
GTILE = 8
grad = []
for M in (8, 4):
    o = []
    o.append(f"""    /**
     * dwp[(k0 + k)*L + lane] += sum over the rows r of the tiles of gp[r*L + lane] * xp[(r + k0 + k)*L + lane],
     * k < {M}: the {M} partial sums stay in registers across the tiles of {GTILE} rows; each tile loads its
     * dy rows and each of its input rows once.
     */
    private static void tapGradient{M}(float[] xp, float[] gp, float[] dwp, int k0, int tiles) {{""")
    for k in range(M):
        o.append(f"        FloatVector d{k} = FloatVector.fromArray(S, dwp, (k0 + {k}) * L);")
    o.append("        for (int tile = 0; tile < tiles; tile++) {")
    o.append(f"            int gr = tile * {GTILE} * L;")
    for i in range(GTILE):
        o.append(f"            FloatVector g{i} = FloatVector.fromArray(S, gp, gr + {i} * L);")
    o.append(f"            int xr = (tile * {GTILE} + k0) * L;")
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
