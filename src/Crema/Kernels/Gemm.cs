using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

/// <summary>
/// Row-major single-precision GEMM and GEMV with Caffe's <c>caffe_cpu_gemm</c> / <c>caffe_cpu_gemv</c> semantics.
/// </summary>
/// <remarks>
/// Layout (BLIS-style, transposed for row-major C): C is cut into MR×NR register tiles, MR = 6 rows by NR columns
/// (64 with AVX-512, 16 with AVX2+FMA, 8 portable). B is packed per (KC × NCB) block into NR-wide slivers that
/// stream from L2; A is read in place (6 row pointers, the sliver stays in L1) or, when transposed, packed into
/// 6-row slivers. The AVX-512 kernel stores edge tiles with masks (2- and 4-row variants for the last rows); the
/// others go through a scratch tile. Each element of C is summed in the same order (k ascending, KC blocks
/// ascending) whatever the thread count, and threads own disjoint, NR/MR-aligned parts of C, so results are
/// bit-identical for 1..T threads. Problems under 2^21 multiply-adds stay on the calling thread.
/// </remarks>
public static unsafe class Gemm
{
    private const int MR = 6;
    // KC: A sliver (6 × 256 floats = 6 KiB) stays in L1; NCB: a packed B block (256 × 512 floats = 512 KiB) in L2.
    private const int KC = 256;
    private const int NCB = 512;
    // MC only bounds the packed transposed-A block (768 × 256 floats); B is repacked once per MC rows.
    private const int MC = 768;
    // Below this many multiply-adds a second thread costs more to wake than it saves (~20 µs of work).
    private const long ParallelThreshold = 1L << 21;
    private const long GemvParallelThreshold = 1L << 18;

    private static int s_threadCount = Environment.ProcessorCount;

    /// <summary>Maximum threads a single call may use (default <see cref="Environment.ProcessorCount"/>).</summary>
    public static int ThreadCount
    {
        get => s_threadCount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            s_threadCount = value;
        }
    }

    /// <summary>Which micro-kernel this process uses: "Vector512", "Vector256" or "Portable".</summary>
    public static string Path => s_kind switch
    {
        KernelKind.V512 => "Vector512",
        KernelKind.V256 => "Vector256",
        _ => "Portable",
    };

    private enum KernelKind { Portable, V256, V512 }

    private static readonly KernelKind s_kind =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? KernelKind.V512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported && Avx2.IsSupported ? KernelKind.V256
        : KernelKind.Portable;

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C, all row-major with natural leading dimensions.
    /// op(A) is (m, k): A is stored (m, k), or (k, m) when <paramref name="transA"/>.
    /// op(B) is (k, n): B is stored (k, n), or (n, k) when <paramref name="transB"/>. C is (m, n).
    /// With beta = 0, C is overwritten without being read (NaN in C does not leak).
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        ValidateGemm(m, n, k, a.Length, b.Length, c.Length);
        if (m == 0 || n == 0)
        {
            return;
        }

        Span<float> cm = c[..(m * n)];
        if (k == 0 || alpha == 0)
        {
            Scale(cm, beta);
            return;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var args = new GemmArgs
            {
                TransA = transA, TransB = transB, M = m, N = n, K = k,
                Alpha = alpha, Beta = beta, A = pa, B = pb, C = pc, Kind = s_kind,
            };
            long work = (long)m * n * k;
            int threads = work < ParallelThreshold ? 1 : Math.Min(s_threadCount, Environment.ProcessorCount);
            if (threads <= 1)
            {
                RunBlocked(&args, 0, m, 0, n);
                return;
            }

            Partition(&args, threads);
            WorkerPool.Run(args.Parts, &RunPart, &args);
        }
    }

    /// <summary>
    /// y = alpha·op(A)·x + beta·y with A stored (m, n) row-major; op(A) = Aᵀ when <paramref name="transA"/>.
    /// x has n elements (m when transposed) and y has m (n when transposed). With beta = 0, y is not read.
    /// </summary>
    public static void Sgemv(bool transA, int m, int n, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> x, float beta, Span<float> y)
    {
        ValidateGemv(transA, m, n, a.Length, x.Length, y.Length);
        int rows = transA ? n : m, cols = transA ? m : n;
        Span<float> yv = y[..rows];
        if (cols == 0 || alpha == 0)
        {
            Scale(yv, beta);
            return;
        }

        fixed (float* pa = a)
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var args = new GemvArgs { TransA = transA, M = m, N = n, Alpha = alpha, Beta = beta, A = pa, X = px, Y = py };
            // Memory-bound: a second thread pays off once A is well past L2 (its bandwidth roughly doubles).
            int threads = (long)m * n < GemvParallelThreshold ? 1 : Math.Min(s_threadCount, Environment.ProcessorCount);
            args.Parts = Math.Max(1, Math.Min(threads, (rows + 15) / 16));
            if (args.Parts == 1)
            {
                RunGemvPart(&args, 0);
            }
            else
            {
                WorkerPool.Run(args.Parts, &RunGemvPart, &args);
            }
        }
    }

    internal static void ValidateGemm(int m, int n, int k, int aLength, int bLength, int cLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        // NOTE: messages are built only on failure, so a valid call allocates nothing.
        if (!Fits(aLength, (long)m * k) || !Fits(bLength, (long)k * n) || !Fits(cLength, (long)m * n))
        {
            CheckLength("a", aLength, (long)m * k, $"op(A) is {m}x{k}");
            CheckLength("b", bLength, (long)k * n, $"op(B) is {k}x{n}");
            CheckLength("c", cLength, (long)m * n, $"C is {m}x{n}");
        }
    }

    internal static void ValidateGemv(bool transA, int m, int n, int aLength, int xLength, int yLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (!Fits(aLength, (long)m * n) || !Fits(xLength, transA ? m : n) || !Fits(yLength, transA ? n : m))
        {
            CheckLength("a", aLength, (long)m * n, $"A is {m}x{n}");
            CheckLength("x", xLength, transA ? m : n, transA ? $"Aᵀ is {n}x{m}" : $"A is {m}x{n}");
            CheckLength("y", yLength, transA ? n : m, transA ? $"Aᵀ is {n}x{m}" : $"A is {m}x{n}");
        }
    }

    private static bool Fits(int length, long needed) => needed <= int.MaxValue && length >= needed;

    private static void CheckLength(string name, int length, long needed, string what)
    {
        if (needed > int.MaxValue)
        {
            throw new ArgumentException($"{what}: {needed} elements exceed the span size limit.", name);
        }

        if (length < needed)
        {
            throw new ArgumentException($"Span '{name}' has {length} elements but {what} needs {needed}.", name);
        }
    }

    private static void Scale(Span<float> v, float beta)
    {
        if (beta == 0)
        {
            v.Clear();
        }
        else if (beta != 1)
        {
            TensorPrimitives.Multiply(v, beta, v);
        }
    }

    // ---------------------------------------------------------------- threading

    private struct GemmArgs
    {
        public bool TransA, TransB;
        public int M, N, K;
        public float Alpha, Beta;
        public float* A, B, C;
        public KernelKind Kind;
        // Partition: Parts slices of C along rows (SplitRows) or columns, in units of Unit rows/columns.
        public int Parts, Unit, Tiles;
        public bool SplitRows;
    }

    private static int TileWidth(KernelKind kind) => kind switch
    {
        KernelKind.V512 => Kernel512.NR,
        KernelKind.V256 => Kernel256.NR,
        _ => KernelPortable.NR,
    };

    // Picks the split (rows or columns) whose busiest thread owns the fewest register tiles.
    private static void Partition(GemmArgs* g, int threads)
    {
        int nr = TileWidth(g->Kind);
        long rowTiles = (g->M + MR - 1) / MR, colTiles = (g->N + nr - 1) / nr;
        long byCols = (colTiles + threads - 1) / threads * rowTiles;
        long byRows = (rowTiles + threads - 1) / threads * colTiles;
        g->SplitRows = byRows < byCols;
        g->Unit = g->SplitRows ? MR : nr;
        g->Tiles = (int)(g->SplitRows ? rowTiles : colTiles);
        g->Parts = Math.Min(threads, g->Tiles);
    }

    private static void RunPart(void* ctx, int part)
    {
        var g = (GemmArgs*)ctx;
        int t0 = (int)((long)g->Tiles * part / g->Parts), t1 = (int)((long)g->Tiles * (part + 1) / g->Parts);
        if (g->SplitRows)
        {
            RunBlocked(g, t0 * g->Unit, Math.Min(t1 * g->Unit, g->M), 0, g->N);
        }
        else
        {
            RunBlocked(g, 0, g->M, t0 * g->Unit, Math.Min(t1 * g->Unit, g->N));
        }
    }

    private static void RunBlocked(GemmArgs* g, int i0, int i1, int j0, int j1)
    {
        if (i0 >= i1 || j0 >= j1)
        {
            return;
        }

        switch (g->Kind)
        {
            case KernelKind.V512:
                Blocked<Kernel512>(g, i0, i1, j0, j1);
                break;
            case KernelKind.V256:
                Blocked<Kernel256>(g, i0, i1, j0, j1);
                break;
            default:
                Blocked<KernelPortable>(g, i0, i1, j0, j1);
                break;
        }
    }

    private struct GemvArgs
    {
        public bool TransA;
        public int M, N, Parts;
        public float Alpha, Beta;
        public float* A, X, Y;
    }

    // Each part owns a contiguous, 16-aligned range of y, so every y element is summed identically for any split.
    private static void RunGemvPart(void* ctx, int part)
    {
        var g = (GemvArgs*)ctx;
        int rows = g->TransA ? g->N : g->M;
        int units = (rows + 15) / 16;
        int y0 = (int)((long)units * part / g->Parts) * 16, y1 = Math.Min((int)((long)units * (part + 1) / g->Parts) * 16, rows);
        if (y0 >= y1)
        {
            return;
        }

        if (g->TransA)
        {
            GemvTransposed(g->A, g->M, g->N, g->Alpha, g->X, g->Beta, g->Y, y0, y1);
            return;
        }

        // y[i] = alpha·dot(a[i, :], x) + beta·y[i]
        int n = g->N;
        for (int i = y0; i < y1; i++)
        {
            float dot = g->Alpha * Dot(g->A + ((long)i * n), g->X, n);
            g->Y[i] = g->Beta == 0 ? dot : MathF.FusedMultiplyAdd(g->Y[i], g->Beta, dot);
        }
    }

    // y[j0..j1) = beta·y + Σ_i (alpha·x[i])·a[i, j], a: (m, n); rows in ascending order, one fma per row,
    // identical in the vector body and the scalar tail.
    private static void GemvTransposed(float* a, int m, int n, float alpha, float* x, float beta, float* y, int j0, int j1)
    {
        for (int j = j0; j < j1; j++)
        {
            y[j] = beta == 0 ? 0f : y[j] * beta;
        }

        // 4 rows per pass over y: a quarter of the y traffic.
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            float* r0 = a + ((long)i * n), r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
            float s0 = alpha * x[i], s1 = alpha * x[i + 1], s2 = alpha * x[i + 2], s3 = alpha * x[i + 3];
            int j = j0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> v0 = Vector512.Create(s0), v1 = Vector512.Create(s1), v2 = Vector512.Create(s2), v3 = Vector512.Create(s3);
                for (; j + 16 <= j1; j += 16)
                {
                    Vector512<float> acc = Vector512.Load(y + j);
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j), v0, acc);
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + j), v1, acc);
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + j), v2, acc);
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + j), v3, acc);
                    acc.Store(y + j);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> v0 = Vector256.Create(s0), v1 = Vector256.Create(s1), v2 = Vector256.Create(s2), v3 = Vector256.Create(s3);
                for (; j + 8 <= j1; j += 8)
                {
                    Vector256<float> acc = Vector256.Load(y + j);
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j), v0, acc);
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(r1 + j), v1, acc);
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(r2 + j), v2, acc);
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(r3 + j), v3, acc);
                    acc.Store(y + j);
                }
            }

            for (; j < j1; j++)
            {
                float acc = MathF.FusedMultiplyAdd(r0[j], s0, y[j]);
                acc = MathF.FusedMultiplyAdd(r1[j], s1, acc);
                acc = MathF.FusedMultiplyAdd(r2[j], s2, acc);
                y[j] = MathF.FusedMultiplyAdd(r3[j], s3, acc);
            }
        }

        for (; i < m; i++)
        {
            float* r = a + ((long)i * n);
            float s = alpha * x[i];
            for (int j = j0; j < j1; j++)
            {
                y[j] = MathF.FusedMultiplyAdd(r[j], s, y[j]);
            }
        }
    }

    // Σ a[p]·x[p]: 4 independent Vector512 (or Vector256) accumulators, then the scalar tail.
    private static float Dot(float* a, float* x, int n)
    {
        int p = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; p + 64 <= n; p += 64)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(x + p), s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p + 16), Vector512.Load(x + p + 16), s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p + 32), Vector512.Load(x + p + 32), s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p + 48), Vector512.Load(x + p + 48), s3);
            }

            sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; p + 32 <= n; p += 32)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + p), Vector256.Load(x + p), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + p + 8), Vector256.Load(x + p + 8), s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Load(a + p + 16), Vector256.Load(x + p + 16), s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Load(a + p + 24), Vector256.Load(x + p + 24), s3);
            }

            sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        }

        for (; p < n; p++)
        {
            sum = MathF.FusedMultiplyAdd(a[p], x[p], sum);
        }

        return sum;
    }

    // ---------------------------------------------------------------- blocked driver

    // Computes C[i0..i1, j0..j1]; j0 is a multiple of TK.NR and i0 of MR so tiles line up for any thread split.
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
                    if (g->TransB)
                    {
                        PackBTransposed(g->B + ((long)jc * k) + pc, k, kc, nc, nr, step, packB);
                    }
                    else
                    {
                        PackB(g->B + ((long)pc * n) + jc, n, kc, nc, nr, step, packB);
                    }

                    for (int ir = 0; ir < mc; ir += MR)
                    {
                        int rows = Math.Min(MR, mc - ir);
                        float* a;
                        nint rs, ks;
                        if (g->TransA)
                        {
                            // packed sliver: element (r, p) at p*6 + r
                            a = packA + ((long)ir * kc);
                            rs = 1;
                            ks = MR;
                        }
                        else
                        {
                            // in place: a (m, k) row-major
                            a = g->A + ((long)(ic + ir) * k) + pc;
                            rs = k;
                            ks = 1;
                        }

                        float* cRow = g->C + ((long)(ic + ir) * n) + jc;
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            int width = cols == nr ? nr : (cols + step - 1) / step * step;
                            float* b = packB + ((long)jr * kc);
                            if (TK.HandlesEdges || (rows == MR && cols == width))
                            {
                                TK.Run(kc, a, rs, ks, rows, b, width, cRow + jr, n, cols, alpha, beta);
                            }
                            else
                            {
                                TK.Run(kc, a, rs, ks, rows, b, width, tile, width, width, 1f, 0f);
                                MergeTile(tile, width, cRow + jr, n, rows, cols, alpha, beta);
                            }
                        }
                    }
                }
            }
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
                for (; j + 16 <= cols; j += 16)
                {
                    int p = 0;
                    for (; p + 16 <= kc; p += 16)
                    {
                        Transpose16x16(b + ((long)(jr + j) * ldb) + p, ldb, d + (p * width) + j, width);
                    }

                    for (; p < kc; p++)
                    {
                        for (int jj = j; jj < j + 16; jj++)
                        {
                            d[(p * width) + jj] = b[((long)(jr + jj) * ldb) + p];
                        }
                    }
                }
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

    // dst[p*ldd + j] = src[j*lds + p] for a 16×16 block.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16x16(float* src, int lds, float* dst, int ldd)
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

    // ---------------------------------------------------------------- micro-kernels

    // Contract: c[r, j] (row stride ldc) = alpha·Σ_p A(r, p)·b[p*width + j] (+ beta·c[r, j] unless beta = 0)
    // for r < MR, j < width (only r < rows, j < cols when HandlesEdges). A(r, p) = a[min(r, rows-1)*rs + p*ks]:
    // rows past `rows` repeat the last valid row so in-place A is never read out of bounds (their results are
    // dropped).
    private interface IMicroKernel
    {
        static abstract int NR { get; }
        static abstract int Step { get; }
        // True when Run stores only rows < rows and columns < cols itself (masked stores), so edge tiles
        // need no scratch tile; otherwise Run writes the whole MR × width tile.
        static abstract bool HandlesEdges { get; }
        static abstract void Run(int kc, float* a, nint rs, nint ks, int rows, float* b, int width,
            float* c, nint ldc, int cols, float alpha, float beta);
    }

    private interface IConst
    {
        static abstract int Value { get; }
    }

    private readonly struct C1 : IConst
    {
        public static int Value => 1;
    }

    private readonly struct C2 : IConst
    {
        public static int Value => 2;
    }

    private readonly struct C3 : IConst
    {
        public static int Value => 3;
    }

    private readonly struct C4 : IConst
    {
        public static int Value => 4;
    }

    private readonly struct C6 : IConst
    {
        public static int Value => 6;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowPointers(float* a, nint rs, int rows,
        out float* a0, out float* a1, out float* a2, out float* a3, out float* a4, out float* a5)
    {
        a0 = a;
        a1 = rows > 1 ? a0 + rs : a0;
        a2 = rows > 2 ? a1 + rs : a1;
        a3 = rows > 3 ? a2 + rs : a2;
        a4 = rows > 4 ? a3 + rs : a3;
        a5 = rows > 5 ? a4 + rs : a4;
    }

    // 6 × (16·NV) tile, NV = 1..4 Vector512 accumulators per row (24 at most of the 32 zmm registers);
    // 4- and 2-row variants for the last row sliver.
    private readonly struct Kernel512 : IMicroKernel
    {
        public static int NR => 64;

        public static int Step => 16;

        public static bool HandlesEdges => true;

        public static void Run(int kc, float* a, nint rs, nint ks, int rows, float* b, int width,
            float* c, nint ldc, int cols, float alpha, float beta)
        {
            // Short row slivers (the last of M) run a 2- or 4-row tile instead of computing padding rows.
            if (rows > 4)
            {
                Run<C6>(kc, a, rs, ks, rows, b, width, c, ldc, cols, alpha, beta);
            }
            else if (rows > 2)
            {
                Run<C4>(kc, a, rs, ks, rows, b, width, c, ldc, cols, alpha, beta);
            }
            else
            {
                Run<C2>(kc, a, rs, ks, rows, b, width, c, ldc, cols, alpha, beta);
            }
        }

        private static void Run<TR>(int kc, float* a, nint rs, nint ks, int rows, float* b, int width,
            float* c, nint ldc, int cols, float alpha, float beta) where TR : struct, IConst
        {
            switch (width)
            {
                case 64:
                    Tile<C4, TR>(kc, a, rs, ks, rows, b, c, ldc, cols, alpha, beta);
                    break;
                case 48:
                    Tile<C3, TR>(kc, a, rs, ks, rows, b, c, ldc, cols, alpha, beta);
                    break;
                case 32:
                    Tile<C2, TR>(kc, a, rs, ks, rows, b, c, ldc, cols, alpha, beta);
                    break;
                default:
                    Tile<C1, TR>(kc, a, rs, ks, rows, b, c, ldc, cols, alpha, beta);
                    break;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        // TR.Value (2, 4 or 6) rows × TV.Value vectors; rows ≤ TR.Value are stored.
        private static void Tile<TV, TR>(int kc, float* a, nint rs, nint ks, int rows, float* b,
            float* c, nint ldc, int cols, float alpha, float beta) where TV : struct, IConst where TR : struct, IConst
        {
            int nv = TV.Value, nr = TR.Value;
            RowPointers(a, rs, rows, out float* a0, out float* a1, out float* a2, out float* a3, out float* a4, out float* a5);
            Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
            Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
            Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
            Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
            Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
            Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
            nint bw = nv * 16;
            nint off = 0;
            for (int p = 0; p < kc; p++)
            {
                Vector512<float> b0 = Vector512.Load(b);
                Vector512<float> b1 = nv > 1 ? Vector512.Load(b + 16) : default;
                Vector512<float> b2 = nv > 2 ? Vector512.Load(b + 32) : default;
                Vector512<float> b3 = nv > 3 ? Vector512.Load(b + 48) : default;
                Vector512<float> x = Vector512.Create(a0[off]);
                c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
                if (nv > 1) { c01 = Vector512.FusedMultiplyAdd(x, b1, c01); }
                if (nv > 2) { c02 = Vector512.FusedMultiplyAdd(x, b2, c02); }
                if (nv > 3) { c03 = Vector512.FusedMultiplyAdd(x, b3, c03); }
                x = Vector512.Create(a1[off]);
                c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
                if (nv > 1) { c11 = Vector512.FusedMultiplyAdd(x, b1, c11); }
                if (nv > 2) { c12 = Vector512.FusedMultiplyAdd(x, b2, c12); }
                if (nv > 3) { c13 = Vector512.FusedMultiplyAdd(x, b3, c13); }
                if (nr > 2)
                {
                    x = Vector512.Create(a2[off]);
                    c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
                    if (nv > 1) { c21 = Vector512.FusedMultiplyAdd(x, b1, c21); }
                    if (nv > 2) { c22 = Vector512.FusedMultiplyAdd(x, b2, c22); }
                    if (nv > 3) { c23 = Vector512.FusedMultiplyAdd(x, b3, c23); }
                }

                if (nr > 2)
                {
                    x = Vector512.Create(a3[off]);
                    c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
                    if (nv > 1) { c31 = Vector512.FusedMultiplyAdd(x, b1, c31); }
                    if (nv > 2) { c32 = Vector512.FusedMultiplyAdd(x, b2, c32); }
                    if (nv > 3) { c33 = Vector512.FusedMultiplyAdd(x, b3, c33); }
                }

                if (nr > 4)
                {
                    x = Vector512.Create(a4[off]);
                    c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
                    if (nv > 1) { c41 = Vector512.FusedMultiplyAdd(x, b1, c41); }
                    if (nv > 2) { c42 = Vector512.FusedMultiplyAdd(x, b2, c42); }
                    if (nv > 3) { c43 = Vector512.FusedMultiplyAdd(x, b3, c43); }
                }

                if (nr > 4)
                {
                    x = Vector512.Create(a5[off]);
                    c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
                    if (nv > 1) { c51 = Vector512.FusedMultiplyAdd(x, b1, c51); }
                    if (nv > 2) { c52 = Vector512.FusedMultiplyAdd(x, b2, c52); }
                    if (nv > 3) { c53 = Vector512.FusedMultiplyAdd(x, b3, c53); }
                }

                off += ks;
                b += bw;
            }

            var va = Vector512.Create(alpha);
            var vb = Vector512.Create(beta);
            bool read = beta != 0;
            if (rows == nr && cols == nv * 16)
            {
                StoreRow<TV>(c, c00, c01, c02, c03, va, vb, read);
                StoreRow<TV>(c + ldc, c10, c11, c12, c13, va, vb, read);
                if (nr > 2)
                {
                    StoreRow<TV>(c + (2 * ldc), c20, c21, c22, c23, va, vb, read);
                    StoreRow<TV>(c + (3 * ldc), c30, c31, c32, c33, va, vb, read);
                }

                if (nr > 4)
                {
                    StoreRow<TV>(c + (4 * ldc), c40, c41, c42, c43, va, vb, read);
                    StoreRow<TV>(c + (5 * ldc), c50, c51, c52, c53, va, vb, read);
                }

                return;
            }

            // Edge tile: rows past `rows` are dropped, the last partial vector of each row is masked.
            StoreEdgeRow<TV>(c, c00, c01, c02, c03, va, vb, read, cols);
            if (rows > 1) { StoreEdgeRow<TV>(c + ldc, c10, c11, c12, c13, va, vb, read, cols); }
            if (rows > 2) { StoreEdgeRow<TV>(c + (2 * ldc), c20, c21, c22, c23, va, vb, read, cols); }
            if (rows > 3) { StoreEdgeRow<TV>(c + (3 * ldc), c30, c31, c32, c33, va, vb, read, cols); }
            if (rows > 4) { StoreEdgeRow<TV>(c + (4 * ldc), c40, c41, c42, c43, va, vb, read, cols); }
            if (rows > 5) { StoreEdgeRow<TV>(c + (5 * ldc), c50, c51, c52, c53, va, vb, read, cols); }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow<TV>(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2,
            Vector512<float> x3, Vector512<float> va, Vector512<float> vb, bool read) where TV : struct, IConst
        {
            int nv = TV.Value;
            Store(c, x0, va, vb, read);
            if (nv > 1) { Store(c + 16, x1, va, vb, read); }
            if (nv > 2) { Store(c + 32, x2, va, vb, read); }
            if (nv > 3) { Store(c + 48, x3, va, vb, read); }
        }

        private static void StoreEdgeRow<TV>(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2,
            Vector512<float> x3, Vector512<float> va, Vector512<float> vb, bool read, int cols) where TV : struct, IConst
        {
            int nv = TV.Value;
            StoreMasked(c, x0, va, vb, read, cols);
            if (nv > 1) { StoreMasked(c + 16, x1, va, vb, read, cols - 16); }
            if (nv > 2) { StoreMasked(c + 32, x2, va, vb, read, cols - 32); }
            if (nv > 3) { StoreMasked(c + 48, x3, va, vb, read, cols - 48); }
        }

        // Same arithmetic as Store on the first `count` lanes; masked loads and stores never touch the rest.
        private static void StoreMasked(float* c, Vector512<float> acc, Vector512<float> va, Vector512<float> vb,
            bool read, int count)
        {
            if (count >= 16)
            {
                Store(c, acc, va, vb, read);
                return;
            }

            if (count <= 0)
            {
                return;
            }

            Vector512<float> mask = Vector512.GreaterThan(Vector512.Create(count), Vector512<int>.Indices).AsSingle();
            Vector512<float> v = acc * va;
            if (read)
            {
                v = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(c, mask, Vector512<float>.Zero), vb, v);
            }

            Avx512F.MaskStore(c, mask, v);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, Vector512<float> acc, Vector512<float> va, Vector512<float> vb, bool read)
        {
            Vector512<float> v = acc * va;
            if (read)
            {
                v = Vector512.FusedMultiplyAdd(Vector512.Load(c), vb, v);
            }

            Vector512.Store(v, c);
        }
    }

    // 6 × (8·NV) tile, NV = 1..2 Vector256 accumulators per row (12 of the 16 ymm registers).
    private readonly struct Kernel256 : IMicroKernel
    {
        public static int NR => 16;

        public static int Step => 8;

        public static bool HandlesEdges => false;

        public static void Run(int kc, float* a, nint rs, nint ks, int rows, float* b, int width,
            float* c, nint ldc, int cols, float alpha, float beta)
        {
            if (width == 16)
            {
                Tile<C2>(kc, a, rs, ks, rows, b, c, ldc, alpha, beta);
            }
            else
            {
                Tile<C1>(kc, a, rs, ks, rows, b, c, ldc, alpha, beta);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Tile<TV>(int kc, float* a, nint rs, nint ks, int rows, float* b,
            float* c, nint ldc, float alpha, float beta) where TV : struct, IConst
        {
            int nv = TV.Value;
            RowPointers(a, rs, rows, out float* a0, out float* a1, out float* a2, out float* a3, out float* a4, out float* a5);
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
            nint bw = nv * 8;
            nint off = 0;
            for (int p = 0; p < kc; p++)
            {
                Vector256<float> b0 = Vector256.Load(b);
                Vector256<float> b1 = nv > 1 ? Vector256.Load(b + 8) : default;
                Vector256<float> x = Vector256.Create(a0[off]);
                c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
                if (nv > 1) { c01 = Vector256.FusedMultiplyAdd(x, b1, c01); }
                x = Vector256.Create(a1[off]);
                c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
                if (nv > 1) { c11 = Vector256.FusedMultiplyAdd(x, b1, c11); }
                x = Vector256.Create(a2[off]);
                c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
                if (nv > 1) { c21 = Vector256.FusedMultiplyAdd(x, b1, c21); }
                x = Vector256.Create(a3[off]);
                c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
                if (nv > 1) { c31 = Vector256.FusedMultiplyAdd(x, b1, c31); }
                x = Vector256.Create(a4[off]);
                c40 = Vector256.FusedMultiplyAdd(x, b0, c40);
                if (nv > 1) { c41 = Vector256.FusedMultiplyAdd(x, b1, c41); }
                x = Vector256.Create(a5[off]);
                c50 = Vector256.FusedMultiplyAdd(x, b0, c50);
                if (nv > 1) { c51 = Vector256.FusedMultiplyAdd(x, b1, c51); }
                off += ks;
                b += bw;
            }

            var va = Vector256.Create(alpha);
            var vb = Vector256.Create(beta);
            bool read = beta != 0;
            StoreRow<TV>(c, c00, c01, va, vb, read);
            StoreRow<TV>(c + ldc, c10, c11, va, vb, read);
            StoreRow<TV>(c + (2 * ldc), c20, c21, va, vb, read);
            StoreRow<TV>(c + (3 * ldc), c30, c31, va, vb, read);
            StoreRow<TV>(c + (4 * ldc), c40, c41, va, vb, read);
            StoreRow<TV>(c + (5 * ldc), c50, c51, va, vb, read);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow<TV>(float* c, Vector256<float> x0, Vector256<float> x1,
            Vector256<float> va, Vector256<float> vb, bool read) where TV : struct, IConst
        {
            Store(c, x0, va, vb, read);
            if (TV.Value > 1) { Store(c + 8, x1, va, vb, read); }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* c, Vector256<float> acc, Vector256<float> va, Vector256<float> vb, bool read)
        {
            Vector256<float> v = acc * va;
            if (read)
            {
                v = Vector256.FusedMultiplyAdd(Vector256.Load(c), vb, v);
            }

            Vector256.Store(v, c);
        }
    }

    // 6 × 8 tile (4-column steps): Vector128 where accelerated (SSE, NEON), plain scalar otherwise.
    private readonly struct KernelPortable : IMicroKernel
    {
        public static int NR => 8;

        public static int Step => 4;

        public static bool HandlesEdges => false;

        public static void Run(int kc, float* a, nint rs, nint ks, int rows, float* b, int width,
            float* c, nint ldc, int cols, float alpha, float beta)
        {
            RowPointers(a, rs, rows, out float* a0, out float* a1, out float* a2, out float* a3, out float* a4, out float* a5);
            for (int j = 0; j < width; j += 4)
            {
                if (Vector128.IsHardwareAccelerated)
                {
                    Quad128(kc, a0, a1, a2, a3, a4, a5, ks, b + j, width, c + j, ldc, alpha, beta);
                }
                else
                {
                    QuadScalar(kc, a0, a1, a2, a3, a4, a5, ks, b + j, width, c + j, ldc, alpha, beta);
                }
            }
        }

        private static void Quad128(int kc, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
            nint ks, float* b, nint bw, float* c, nint ldc, float alpha, float beta)
        {
            Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
            nint off = 0;
            for (int p = 0; p < kc; p++)
            {
                Vector128<float> bv = Vector128.Load(b);
                s0 += Vector128.Create(a0[off]) * bv;
                s1 += Vector128.Create(a1[off]) * bv;
                s2 += Vector128.Create(a2[off]) * bv;
                s3 += Vector128.Create(a3[off]) * bv;
                s4 += Vector128.Create(a4[off]) * bv;
                s5 += Vector128.Create(a5[off]) * bv;
                off += ks;
                b += bw;
            }

            Store4(c, s0, alpha, beta);
            Store4(c + ldc, s1, alpha, beta);
            Store4(c + (2 * ldc), s2, alpha, beta);
            Store4(c + (3 * ldc), s3, alpha, beta);
            Store4(c + (4 * ldc), s4, alpha, beta);
            Store4(c + (5 * ldc), s5, alpha, beta);
        }

        private static void Store4(float* c, Vector128<float> acc, float alpha, float beta)
        {
            for (int j = 0; j < 4; j++)
            {
                float v = alpha * acc.GetElement(j);
                c[j] = beta == 0 ? v : MathF.FusedMultiplyAdd(c[j], beta, v);
            }
        }

        private static void QuadScalar(int kc, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
            nint ks, float* b, nint bw, float* c, nint ldc, float alpha, float beta)
        {
            float* acc = stackalloc float[MR * 4];
            new Span<float>(acc, MR * 4).Clear();
            nint off = 0;
            for (int p = 0; p < kc; p++)
            {
                float x0 = a0[off], x1 = a1[off], x2 = a2[off], x3 = a3[off], x4 = a4[off], x5 = a5[off];
                for (int j = 0; j < 4; j++)
                {
                    float bj = b[j];
                    acc[j] += x0 * bj;
                    acc[4 + j] += x1 * bj;
                    acc[8 + j] += x2 * bj;
                    acc[12 + j] += x3 * bj;
                    acc[16 + j] += x4 * bj;
                    acc[20 + j] += x5 * bj;
                }

                off += ks;
                b += bw;
            }

            for (int r = 0; r < MR; r++)
            {
                float* cr = c + (r * ldc);
                for (int j = 0; j < 4; j++)
                {
                    float v = alpha * acc[(r * 4) + j];
                    cr[j] = beta == 0 ? v : MathF.FusedMultiplyAdd(cr[j], beta, v);
                }
            }
        }
    }

    // ---------------------------------------------------------------- per-thread scratch

    // Packing buffers owned by one thread, 64-byte aligned, allocated on first use and freed with the thread.
    private sealed class PackBuffers
    {
        [ThreadStatic]
        private static PackBuffers? t_current;

        public static PackBuffers Current => t_current ??= new PackBuffers();

        public readonly float* A, B, Tile;

        private PackBuffers()
        {
            // +16 floats of slack: PackA's 8-wide copies may write 2 floats past a sliver.
            A = (float*)NativeMemory.AlignedAlloc((nuint)(((MC + MR) * KC) + 16) * sizeof(float), 64);
            B = (float*)NativeMemory.AlignedAlloc((nuint)(KC * (NCB + 64)) * sizeof(float), 64);
            Tile = (float*)NativeMemory.AlignedAlloc(MR * 64 * sizeof(float), 64);
        }

        ~PackBuffers()
        {
            NativeMemory.AlignedFree(A);
            NativeMemory.AlignedFree(B);
            NativeMemory.AlignedFree(Tile);
        }
    }
}
