#!/usr/bin/env python3
"""Writes the unrolled register tiles of DynamicConvSimd.java to stdout: convolveTile (the forward
convolution) and gatherTile (the input gradient), for four time steps x four channel vectors, and
convolveTile2 / gatherTile2 for four time steps x two (heads of 32 channels at V = 16); and tapSums16 /
tapSums8, the backward's tap gradient for 16 (8) taps at a time with 16 (8) lanes.

Each input row is loaded once (four vectors) and feeds up to four outputs, each with its own broadcast
weight: 16 accumulators, 16 independent FMA chains. The rows a tile reads split into a head (rows that
feed only some outputs), a loop over the rows that feed all four, and a tail; every output sums its taps
in increasing k, as the row-by-row path does, so the two give the same bits. Java cannot express such a
tile generically without boxing its vectors, so it is generated. Paste the output between the markers
in src/main/java/org/attnkit/ops/dynamicconv/DynamicConvSimd.java.
"""

I = "        "


def vec(v):
    return "" if v == 0 else " + V" if v == 1 else f" + {v} * V"


def row(j, name):
    return name if j == 0 else f"{name} + C" if j == 1 else f"{name} + {j} * C"


def plus(base, d):
    return base if d == 0 else f"{base} + {d}" if d > 0 else f"{base} - {-d}"


def accumulators(o, src, nv):
    for j in range(4):
        for v in range(nv):
            o.append(I + f"FloatVector a{j}{v} = FloatVector.zero(S);")
    for v in range(nv):
        o.append(I + f"FloatVector {src}{v};")
    o.append(I + "FloatVector wv;")


def load(o, ind, src, arr, index, nv):
    o.append(f"{ind}{index};")
    base = index.split(" = ")[0].strip().split()[-1]
    for v in range(nv):
        o.append(f"{ind}{src}{v} = FloatVector.fromArray(S, {arr}, {base}{vec(v)});")


def fmas(o, ind, src, j, weight, nv):
    o.append(f"{ind}wv = FloatVector.broadcast(S, {weight});")
    for v in range(nv):
        o.append(f"{ind}a{j}{v} = {src}{v}.fma(wv, a{j}{v});")


def stores(o, arr, first, nv):
    for j in range(4):
        for v in range(nv):
            o.append(I + f"a{j}{v}.intoArray({arr}, {row(j, first)}{vec(v)});")


def weight_row(j):
    return "w0" if j == 0 else "w0 + ws" if j == 1 else f"w0 + {j} * ws"


NAMES = {4: "four", 2: "two"}
ROW_PATH = {4: "and its 4 chains", 2: "one vector at a time, whose single chain would"}


def convolve_tile(nv):
    """convolveTile (nv = 4) or convolveTile2 (nv = 2): input row u (from t-P) feeds output j through
    tap k = u - j, u ascending."""
    name = "convolveTile" if nv == 4 else f"convolveTile{nv}"
    chains = 4 * nv
    o = [f"""    /**
     * Four output rows t..t+3 x {NAMES[nv]} channel vectors [c, c+{nv}V) of one head, where every tap of the four
     * rows is in range and K >= 3: input row t-P+u feeds output row j through tap k = u-j, so each input
     * vector is loaded once for up to four outputs, into {chains} independent FMA chains (the row-by-row path
     * loads it once per output, {ROW_PATH[nv]} wait on the FMA latency).
     * The weights of output row j are w[w0 + j*ws + k]; xr0 is the index of x[t-P, c], yr0 that of y[t, c].
     */
    private static void {name}(float[] x, float[] w, int w0, int ws, float[] y, int xr0, int yr0, int C,
                                     {" " * (len(name) - len("convolveTile"))}int kk) {{"""]
    accumulators(o, "x", nv)
    o.append(I + "int xr;")
    for u in range(3):
        o.append(I + f"// input row {u}: outputs 0..{u}")
        load(o, I, "x", "x", "xr = xr0" + ("" if u == 0 else " + C" if u == 1 else f" + {u} * C"), nv)
        for j in range(u + 1):
            fmas(o, I, "x", j, f"w[{weight_row(j)} + {u - j}]", nv)
    o.append(I + "for (int u = 3; u < kk; u++) { // every output reads this row")
    load(o, I + "    ", "x", "x", "xr = xr0 + u * C", nv)
    for j in range(4):
        fmas(o, I + "    ", "x", j, f"w[{weight_row(j)} + {plus('u', -j)}]", nv)
    o.append(I + "}")
    for e in range(3):
        o.append(I + f"// input row K{'' if e == 0 else ' + ' + str(e)}: outputs {e + 1}..3")
        load(o, I, "x", "x", "xr = xr0 + " + ("kk * C" if e == 0 else f"(kk + {e}) * C"), nv)
        for j in range(e + 1, 4):
            fmas(o, I, "x", j, f"w[{weight_row(j)} + {plus('kk', e - j)}]", nv)
    stores(o, "y", "yr0", nv)
    o.append("    }")
    return "\n".join(o)


def gather_tile(nv):
    """gatherTile (nv = 4) or gatherTile2 (nv = 2): dy row q (from s+P-K+1) feeds output j through tap
    k = j + K - 1 - q, q descending."""
    name = "gatherTile" if nv == 4 else f"gatherTile{nv}"
    o = [f"""    /**
     * dx rows s..s+3 x {NAMES[nv]} channel vectors [c, c+{nv}V) of one head, where every source row of the four is
     * in range and K >= 3: dy row q (from s+P-K+1) feeds output row j through tap k = j+K-1-q with the
     * weight wt[row q][k], so each dy vector is loaded once for up to four outputs ({4 * nv} FMA chains). The rows
     * go from the last to the first, so that every output sums its taps in increasing k. gr0 is the index
     * of dy[row 0, c], wr0 that of wt[row 0, h, 0], dr0 that of dx[s, c].
     */
    private static void {name}(float[] dy, float[] wt, float[] dx, int gr0, int wr0, int dr0, int C, int taps,
                                   {" " * (len(name) - len("gatherTile"))}int kk) {{"""]
    accumulators(o, "g", nv)
    o.append(I + "int gr;")
    o.append(I + "int wr;")

    def gload(ind, q):
        o.append(f"{ind}gr = gr0 + {q} * C;")
        o.append(f"{ind}wr = wr0 + {q} * taps;")
        for v in range(nv):
            o.append(f"{ind}g{v} = FloatVector.fromArray(S, dy, gr{vec(v)});")

    for e in (2, 1, 0):
        o.append(I + f"// dy row K{' + ' + str(e) if e else ''}: outputs {e + 1}..3")
        gload(I, f"(kk + {e})" if e else "kk")
        for j in range(e + 1, 4):
            fmas(o, I, "g", j, f"wt[wr + {j - 1 - e}]", nv)
    o.append(I + "for (int q = kk - 1; q >= 3; q--) { // every output reads this row")
    gload(I + "    ", "q")
    for j in range(4):
        fmas(o, I + "    ", "g", j, f"wt[wr + {plus('kk', j - 1)} - q]", nv)
    o.append(I + "}")
    for q in (2, 1, 0):
        o.append(I + f"// dy row {q}: outputs 0..{q}")
        gload(I, str(q))
        for j in range(q + 1):
            fmas(o, I, "g", j, f"wt[wr + {plus('kk', j - 1 - q)}]", nv)
    stores(o, "dx", "dr0", nv)
    o.append("    }")
    return "\n".join(o)


TAP_SUMS_DOC16 = """out[outOff + j] = sum_{c < R} dy[dyOff + c] x[xOff + j*C + c] for the first {@code count} of 16 taps
     * j (the other lanes computed, not stored): 16 accumulators along the head's channels, then their lane
     * sums all at once and one vector store. The accumulators are combined pairwise: lane i of a level-d
     * result is a[i] + a[i ^ d] where i & d is 0 and b[i] + b[i ^ d] where it is not (two blends, a shuffle,
     * an add); after d = 1, 2, 4, 8, lane j holds the sum of the lanes of accumulator j. 60 operations for
     * the 16 sums, in a fixed order, instead of a butterfly, a lane extract and a scalar store for each.
     * B=8 T=512 C=512 H=8 K=31, two threads, fastest of 10 calls: the tap gradient of all rows 3.25-3.48
     * ms with a butterfly per tap, 2.76 ms this way; phase 1 of the backward, old and new classes
     * alternating 3 times, 7.22-7.52 -> 6.20-6.72 ms."""


def tap_sums(n):
    """tapSums<n>: n accumulators of n-lane vectors, their lane sums by log2(n) levels of pairwise combination."""
    head = f"    private static void tapSums{n}("
    o = []
    if n == 16:
        o.append("    /**\n     * " + TAP_SUMS_DOC16 + "\n     */")
    else:
        o.append(f"    /** {{@link #tapSums16}} with {n} lanes (AVX2): {n} taps at a time, levels d = 1, 2, 4. */")
    o.append(head + "float[] dy, int dyOff, float[] x, int xOff, int C, int R, float[] out, int outOff,")
    o.append(" " * len(head) + "int count) {")
    for k in range(n):
        o.append(f"        FloatVector a{k} = FloatVector.zero(S);")
    o.append(f"        for (int c = 0; c < R; c += {n}) {{")
    o.append("            FloatVector d = FloatVector.fromArray(S, dy, dyOff + c);")
    o.append("            int xr = xOff + c;")
    for k in range(n):
        o.append(f"            a{k} = d.fma(FloatVector.fromArray(S, x, xr + {k} * C), a{k});")
    o.append("        }")
    level = [f"a{k}" for k in range(n)]
    names = "pqr"
    d, depth = 1, 0
    while len(level) > 1:
        nxt = []
        for m in range(len(level) // 2):
            a, b = level[2 * m], level[2 * m + 1]
            name = "sums" if len(level) == 2 else f"{names[depth]}{m}"
            o.append(f"        FloatVector {name} = {a}.blend({b}, UPPER{d}).add({b}.blend({a}, UPPER{d})"
                     f".rearrange(PARTNER{d}));")
            nxt.append(name)
        level, d, depth = nxt, 2 * d, depth + 1
    o.append(f"        if (count == {n}) {{")
    o.append("            sums.intoArray(out, outOff);")
    o.append("        } else { // the mask made here, not passed in: C2 intrinsifies only what it sees the exact class of")
    o.append("            sums.intoArray(out, outOff, S.indexInRange(0, count));")
    o.append("        }")
    o.append("    }")
    return "\n".join(o)


print("\n\n".join([convolve_tile(4), gather_tile(4), convolve_tile(2), gather_tile(2), tap_sums(16), tap_sums(8)]))
