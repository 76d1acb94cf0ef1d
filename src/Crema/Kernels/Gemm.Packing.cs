using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

/// <summary> The cache-blocked driver of <see cref="Gemm"/> and its packing of A and B into register-tile slivers. </summary>
public static unsafe partial class Gemm
{
    // ---------------------------------------------------------------- blocked driver

    // Computes C[i0..i1, j0..j1]; j0 is a multiple of TK.NR and i0 of MR so tiles line up for any thread split.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked<TK>(GemmArgs* g, int i0, int i1, int j0, int j1) where TK : struct, IMicroKernel
    {
        int nr = TK.NR, step = TK.Step;
        int m = g->M, n = g->N, k = g->K;
        PackBuffers buf = PackBuffers.Current;
        float* packA = buf.A, packB = buf.B, tile = buf.Tile;
        float alpha = g->Alpha;

        for (int ic = i0; ic < i1; ic += MC)
        {
            int mc = Math.Min(MC, i1 - ic);
            // Few row slivers reuse a packed B block too little to repay packing it: the kernels then read B's rows in
            // place (leading dimension n), and only a last sliver narrower than a whole number of vectors is packed.
            bool bInPlace = !g->TransB && g->Packed == null && mc <= InPlaceBRows;
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                // Later KC blocks accumulate onto the partial sums already in C.
                float beta = pc == 0 ? g->Beta : 1f;
                if (g->TransA)
                {
                    PackA(g->A + ((long)pc * m), m, ic, mc, kc, packA);
                }

                for (int jc = j0; jc < j1; jc += NCB)
                {
                    int nc = Math.Min(NCB, j1 - jc);
                    float* bBlock = g->B + ((long)pc * n) + jc;
                    if (g->Packed != null)
                    {
                        packB = g->Packed + ((long)pc * g->PackedN) + ((long)jc * kc);
                    }
                    else if (g->TransB)
                    {
                        PackBTransposed(g->B + ((long)jc * k) + pc, k, kc, nc, nr, step, packB);
                    }
                    else if (!bInPlace)
                    {
                        PackB(bBlock, n, kc, nc, nr, step, packB);
                    }
                    else if (nc % step != 0)
                    {
                        int last = (nc - 1) / nr * nr;
                        PackB(bBlock + last, n, kc, nc - last, nr, step, packB + ((long)last * kc));
                    }

                    var block = new BlockArgs
                    {
                        Ic = ic, Mc = mc, Pc = pc, Kc = kc, Jc = jc, Nc = nc, Beta = beta,
                        PackA = packA, PackB = packB, BBlock = bBlock, BInPlace = bInPlace, Tile = tile,
                    };
                    if (bInPlace)
                    {
                        // Panel-major: one in-place B panel stays in L1 while every row sliver (few, here) passes over it.
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            for (int ir = 0; ir < mc; ir += MR)
                            {
                                RunTile<TK>(g, &block, ir, jr);
                            }
                        }
                    }
                    else
                    {
                        // Sliver-major: the A sliver stays in L1 while the packed B block streams from L2.
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            for (int jr = 0; jr < nc; jr += nr)
                            {
                                RunTile<TK>(g, &block, ir, jr);
                            }
                        }
                    }
                }
            }
        }
    }

    private struct BlockArgs
    {
        public int Ic, Mc, Pc, Kc, Jc, Nc;
        public float Beta;
        public float* PackA, PackB, BBlock, Tile;
        public bool BInPlace;
    }

    // The register tile at row sliver ir and column sliver jr of the current (MC, KC, NCB) block.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunTile<TK>(GemmArgs* g, BlockArgs* blk, int ir, int jr) where TK : struct, IMicroKernel
    {
        int nr = TK.NR, step = TK.Step, n = g->N, kc = blk->Kc;
        int rows = Math.Min(MR, blk->Mc - ir);
        float* a;
        nint rs, ks;
        if (g->TransA)
        {
            // packed sliver: element (r, p) at p*6 + r
            a = blk->PackA + ((long)ir * kc);
            rs = 1;
            ks = MR;
        }
        else
        {
            // in place: a (m, k) row-major
            a = g->A + ((long)(blk->Ic + ir) * g->K) + blk->Pc;
            rs = g->K;
            ks = 1;
        }

        nint ldc = g->Ldc;
        float* c = g->C + ((long)(blk->Ic + ir) * ldc) + blk->Jc + jr;
        int cols = Math.Min(nr, blk->Nc - jr);
        int width = cols == nr ? nr : (cols + step - 1) / step * step;
        bool inPlace = blk->BInPlace && cols == width;
        float* b = inPlace ? blk->BBlock + jr : blk->PackB + ((long)jr * kc);
        nint bs = inPlace ? n : width;
        if (TK.HandlesEdges || (rows == MR && cols == width))
        {
            TK.Run(kc, a, rs, ks, rows, b, width, bs, c, ldc, cols, g->Alpha, blk->Beta);
        }
        else
        {
            TK.Run(kc, a, rs, ks, rows, b, width, bs, blk->Tile, width, width, 1f, 0f);
            MergeTile(blk->Tile, width, c, ldc, rows, cols, g->Alpha, blk->Beta);
        }
        if (g->Epilogue.Active && blk->Pc + kc == g->K)
        {
            g->Epilogue.Apply(c, ldc, blk->Ic + ir, rows, cols);
        }
    }

    // Same arithmetic as the kernels' store (alpha·acc, then fma(c, beta, ·)) so edge tiles round identically.
    private static void MergeTile(float* tile, int width, float* c, nint ldc, int rows, int cols, float alpha, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* t = tile + (r * width);
            float* cr = c + (r * ldc);
            for (int j = 0; j < cols; j++)
            {
                float v = alpha * t[j];
                cr[j] = beta == 0 ? v : MathF.FusedMultiplyAdd(cr[j], beta, v);
            }
        }
    }

    // a: a transposed A stored (k, m), lda = m, at depth pc; packs op(A) rows [ic, ic + mc) × depth [0, kc).
    // Output: 6-row slivers, sliver s at s*6*kc, element (r, p) at p*6 + r, rows past mc zero.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(float* a, int lda, int ic, int mc, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int rows = Math.Min(MR, mc - ir);
            float* src = a + ic + ir;
            float* d = dst + ((long)ir * kc);
            if (rows == MR && Vector256.IsHardwareAccelerated && ic + ir + 8 <= lda)
            {
                // 8-wide copy of 6 needed floats: the 2 extra land in the next p's slots (rewritten next)
                // or in the buffer's slack; the read stays inside this row of A because ic + ir + 8 <= lda.
                for (int p = 0; p < kc; p++)
                {
                    Vector256.Store(Vector256.Load(src + ((long)p * lda)), d + (p * MR));
                }
            }
            else if (Avx.IsSupported)
            {
                // The last rows of A (or a short last sliver): a masked load reads only the valid rows, the rest are zero.
                Vector256<float> mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(rows)).AsSingle();
                for (int p = 0; p < kc; p++)
                {
                    Vector256.Store(Avx.MaskLoad(src + ((long)p * lda), mask), d + (p * MR));
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* s = src + ((long)p * lda);
                    for (int r = 0; r < MR; r++)
                    {
                        d[(p * MR) + r] = r < rows ? s[r] : 0f;
                    }
                }
            }
        }
    }

    // b: rows [0, kc) × columns [0, nc) of B stored (k, n), leading dimension ldb.
    // Output: slivers of nr columns (the last one `width` = cols rounded up to step), sliver at jr*kc,
    // element (p, j) at p*width + j, padding columns zero.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(float* b, int ldb, int kc, int nc, int nr, int step, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            int width = cols == nr ? nr : (cols + step - 1) / step * step;
            float* d = dst + ((long)jr * kc);
            float* s = b + jr;
            if (cols == 64 && Vector512.IsHardwareAccelerated)
            {
                for (int p = 0; p < kc; p++, s += ldb, d += 64)
                {
                    Vector512.Store(Vector512.Load(s), d);
                    Vector512.Store(Vector512.Load(s + 16), d + 16);
                    Vector512.Store(Vector512.Load(s + 32), d + 32);
                    Vector512.Store(Vector512.Load(s + 48), d + 48);
                }
            }
            else if (cols == width && Vector256.IsHardwareAccelerated && cols % 8 == 0)
            {
                for (int p = 0; p < kc; p++, s += ldb, d += width)
                {
                    for (int j = 0; j < cols; j += 8)
                    {
                        Vector256.Store(Vector256.Load(s + j), d + j);
                    }
                }
            }
            else
            {
                for (int p = 0; p < kc; p++, s += ldb, d += width)
                {
                    Buffer.MemoryCopy(s, d, cols * sizeof(float), cols * sizeof(float));
                    for (int j = cols; j < width; j++)
                    {
                        d[j] = 0f;
                    }
                }
            }
        }
    }

    // b: B stored (n, k) (op(B) = Bᵀ), pointing at column jc's row and depth pc; ldb = k.
    // Same output layout as PackB: element (p, j) = b[j*ldb + p].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBTransposed(float* b, int ldb, int kc, int nc, int nr, int step, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            int width = cols == nr ? nr : (cols + step - 1) / step * step;
            float* d = dst + ((long)jr * kc);
            int j = 0;
            if (Avx512F.IsSupported)
            {
                // 16 columns × 16 depths per transpose; the depth tail and the last partial column block go through
                // masked loads (padding columns come out zero), so no element is moved one at a time.
                for (; j < cols; j += 16)
                {
                    int rows = Math.Min(16, cols - j);
                    float* src = b + ((long)(jr + j) * ldb);
                    int p = 0;
                    for (; rows == 16 && p + 16 <= kc; p += 16)
                    {
                        Transpose16x16(src + p, ldb, d + (p * width) + j, width);
                    }
                    for (; p < kc; p += 16)
                    {
                        TransposeMasked(src + p, ldb, rows, Math.Min(16, kc - p), d + (p * width) + j, width);
                    }
                }
                j = width;
            }

            for (; j < width; j++)
            {
                float* dj = d + j;
                if (j < cols)
                {
                    float* s = b + ((long)(jr + j) * ldb);
                    for (int p = 0; p < kc; p++)
                    {
                        dj[p * width] = s[p];
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        dj[p * width] = 0f;
                    }
                }
            }
        }
    }

    // dst[p*ldd + j] = src[j*lds + p] for j < rows, p < depth; dst[p*ldd + j] = 0 for rows <= j < 16; rows p >= depth of
    // dst are not written, and src is read only inside the block.
    private static void TransposeMasked(float* src, int lds, int rows, int depth, float* dst, int ldd)
    {
        float* tile = stackalloc float[2 * 256];
        float* transposed = tile + 256;
        Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(depth)).AsSingle();
        for (int r = 0; r < 16; r++)
        {
            Vector512<float> row = r < rows ? Avx512F.MaskLoad(src + ((long)r * lds), mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            Vector512.Store(row, tile + (r * 16));
        }
        Transpose16x16(tile, 16, transposed, 16);
        for (int p = 0; p < depth; p++)
        {
            Vector512.Store(Vector512.Load(transposed + (p * 16)), dst + ((long)p * ldd));
        }
    }

    // dst[p*ldd + j] = src[j*lds + p] for a 16×16 block.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose16x16(float* src, int lds, float* dst, int ldd)
    {
        Vector512<float> r0 = Vector512.Load(src), r1 = Vector512.Load(src + lds);
        Vector512<float> r2 = Vector512.Load(src + (2 * lds)), r3 = Vector512.Load(src + (3 * lds));
        Vector512<float> r4 = Vector512.Load(src + (4 * lds)), r5 = Vector512.Load(src + (5 * lds));
        Vector512<float> r6 = Vector512.Load(src + (6 * lds)), r7 = Vector512.Load(src + (7 * lds));
        Vector512<float> r8 = Vector512.Load(src + (8 * lds)), r9 = Vector512.Load(src + (9 * lds));
        Vector512<float> ra = Vector512.Load(src + (10 * lds)), rb = Vector512.Load(src + (11 * lds));
        Vector512<float> rc = Vector512.Load(src + (12 * lds)), rd = Vector512.Load(src + (13 * lds));
        Vector512<float> re = Vector512.Load(src + (14 * lds)), rf = Vector512.Load(src + (15 * lds));

        // 32-bit interleave of row pairs, then 64-bit interleave of pair pairs: within each 128-bit lane L,
        // uQ of rows 4g..4g+3 holds column 4L+Q.
        Transpose4(r0, r1, r2, r3, out var u0, out var u1, out var u2, out var u3);
        Transpose4(r4, r5, r6, r7, out var u4, out var u5, out var u6, out var u7);
        Transpose4(r8, r9, ra, rb, out var u8, out var u9, out var u10, out var u11);
        Transpose4(rc, rd, re, rf, out var u12, out var u13, out var u14, out var u15);

        // Gather lane L of the four row groups: output row 4L+Q.
        StoreLanes(u0, u4, u8, u12, dst, ldd);
        StoreLanes(u1, u5, u9, u13, dst + ldd, ldd);
        StoreLanes(u2, u6, u10, u14, dst + (2 * ldd), ldd);
        StoreLanes(u3, u7, u11, u15, dst + (3 * ldd), ldd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d,
        out Vector512<float> q0, out Vector512<float> q1, out Vector512<float> q2, out Vector512<float> q3)
    {
        Vector512<double> t0 = Avx512F.UnpackLow(a, b).AsDouble(), t1 = Avx512F.UnpackHigh(a, b).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(c, d).AsDouble(), t3 = Avx512F.UnpackHigh(c, d).AsDouble();
        q0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        q1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        q2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        q3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
    }

    // Writes rows 4L+Q (L = 0..3) at dst + 4L*ldd, from lane L of g0..g3 (row groups 0..3).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreLanes(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3,
        float* dst, int ldd)
    {
        Vector512<float> v0 = Avx512F.Shuffle4x128(g0, g1, 0x88), v1 = Avx512F.Shuffle4x128(g0, g1, 0xDD);
        Vector512<float> v2 = Avx512F.Shuffle4x128(g2, g3, 0x88), v3 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        Vector512.Store(Avx512F.Shuffle4x128(v0, v2, 0x88), dst);
        Vector512.Store(Avx512F.Shuffle4x128(v1, v3, 0x88), dst + (4 * ldd));
        Vector512.Store(Avx512F.Shuffle4x128(v0, v2, 0xDD), dst + (8 * ldd));
        Vector512.Store(Avx512F.Shuffle4x128(v1, v3, 0xDD), dst + (12 * ldd));
    }
}
