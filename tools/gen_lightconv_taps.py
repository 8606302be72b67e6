#!/usr/bin/env python3
"""Writes the unrolled tap-chunk methods taps16/taps8/taps4 of LightConvSimd.java to stdout.

Each method keeps N weight vectors and TILE accumulators in registers and loads every input row of the
tile once; Java has no way to express the unrolled register tile generically, so it is generated.
Paste the output between the markers in src/main/java/org/attnkit/ops/lightconv/LightConvSimd.java.
"""
TILE=8
out=[]
for N in (16,8,4):
    o=[]
    o.append(f"""    /**
     * Taps [k0, k0+{N}) of {TILE} interior rows starting at t, for every full channel vector: {N} weight
     * vectors and {TILE} accumulators stay in registers and each input row is loaded once.
     * {{@code first}} starts from the bias (or zero), otherwise from the partial sums already in y.
     */
    private static void taps{N}(float[] x, float[] wc, float[] bias, float[] y, int base, int t, int C, int k0,
                               int P, boolean first) {{
        int cv = S.loopBound(C);
        for (int c = 0; c < cv; c += L) {{""")
    for k in range(N):
        o.append(f"            FloatVector w{k} = FloatVector.fromArray(S, wc, (k0 + {k}) * C + c);")
    o.append("            int yr = base + t * C + c;")
    o.append("            FloatVector init = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, c);")
    for i in range(TILE):
        o.append(f"            FloatVector a{i} = first ? init : FloatVector.fromArray(S, y, yr + {i} * C);")
    o.append("            int xr = base + (t + k0 - P) * C + c;")
    o.append("            FloatVector xv;")
    for j in range(TILE+N-1):
        o.append(f"            xv = FloatVector.fromArray(S, x, xr + {j} * C);")
        for i in range(TILE):
            k=j-i
            if 0<=k<N:
                o.append(f"            a{i} = xv.fma(w{k}, a{i});")
    for i in range(TILE):
        o.append(f"            a{i}.intoArray(y, yr + {i} * C);")
    o.append("        }")
    o.append("    }")
    out.append("\n".join(o))
print("\n\n".join(out)+"\n", end="")
