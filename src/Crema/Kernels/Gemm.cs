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
public static unsafe partial class Gemm
{
    private const int MR = 6;
    // KC: A sliver (6 × 256 floats = 6 KiB) stays in L1; NCB: a packed B block (256 × 512 floats = 512 KiB) in L2.
    private const int KC = 256;
    private const int NCB = 512;
    // MC only bounds the packed transposed-A block (768 × 256 floats); B is repacked once per MC rows.
    private const int MC = 768;
    // Below this many multiply-adds (~3 µs of work) a call stays on one thread. Smaller GEMMs gain on two threads only
    // when both vCPUs are really free (LeNet conv1 per image, 288K: 173 -> 330 GFLOP/s); when the second vCPU is busy or
    // shares a core, a spinning helper makes them slower than one thread (140): not worth the gamble.
    private const long ParallelThreshold = 1L << 19;
    // Up to this many rows of C (16 row slivers) the kernels read an untransposed B in place instead of packing it
    // (measured, one thread: LeNet conv1 per image 179 -> 215 GFLOP/s, conv2 229 -> 254, AlexNet conv1 230 -> 250;
    // beyond ~100 rows packing wins: LeNet ip1, 500 rows, 253 packed vs 244 in place).
    private const int InPlaceBRows = 96;
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
                TransA = transA, TransB = transB, M = m, N = n, K = k, Ldc = n,
                Alpha = alpha, Beta = beta, A = pa, B = pb, C = pc, Kind = s_kind,
            };
            if (UseDot(transA, transB, m, n, k))
            {
                DotNT(m, n, k, alpha, pa, pb, beta, pc);
                return;
            }

            RunThreaded(&args);
        }
    }

    /// <summary>
    /// C[:, 0..n) = A·B on the calling thread, A (m, k) and B (k, n) row-major and untransposed, C with row stride
    /// <paramref name="ldc"/> ≥ n: a column block of a wider matrix, written without touching its other columns (a
    /// convolution computing its output positions in cache-sized chunks). Same kernels and summation order as Sgemm.
    /// </summary>
    internal static void SgemmIntoColumns(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int ldc) =>
        SgemmIntoColumns(m, n, k, a, b, c, ldc, default);

    /// <summary>
    /// <see cref="SgemmIntoColumns(int, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int)"/>, then
    /// <paramref name="epilogue"/> on each tile of C while it is in cache (a convolution's bias and fused activation).
    /// </summary>
    internal static void SgemmIntoColumns(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int ldc,
        GemmEpilogue epilogue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ldc, n);
        long cNeeded = m == 0 ? 0 : ((long)(m - 1) * ldc) + n;
        if (c.Length < cNeeded)
        {
            throw new ArgumentException($"Span 'c' has {c.Length} elements but {m} rows of {n} at stride {ldc} need {cNeeded}.", nameof(c));
        }
        ValidateGemm(m, n, k, a.Length, b.Length, m * n);
        if (m == 0 || n == 0)
        {
            return;
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            if (k == 0)
            {
                for (int i = 0; i < m; i++)
                {
                    c.Slice(i * ldc, n).Clear();
                }
                epilogue.Apply(pc, ldc, 0, m, n);
                return;
            }
            var args = new GemmArgs
            {
                M = m, N = n, K = k, Ldc = ldc, Alpha = 1f, Beta = 0f, A = pa, B = pb, C = pc, Kind = s_kind, Epilogue = epilogue,
            };
            RunBlocked(&args, 0, m, 0, n);
        }
    }

    /// <summary>
    /// C = A·B (all (m, k), (k, n), (m, n) row-major, untransposed, C overwritten), then <paramref name="epilogue"/> on each
    /// tile of C while it is in cache; threaded as <see cref="Sgemm"/>, with the same result as Sgemm followed by the epilogue.
    /// </summary>
    internal static void SgemmWithEpilogue(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, GemmEpilogue epilogue)
    {
        if (!epilogue.Active || k == 0 || UseDot(false, false, m, n, k))
        {
            Sgemm(false, false, m, n, k, 1f, a, b, 0f, c);
            fixed (float* pc = c)
            {
                epilogue.Apply(pc, n, 0, m, n);
            }
            return;
        }
        ValidateGemm(m, n, k, a.Length, b.Length, c.Length);
        if (m == 0 || n == 0)
        {
            return;
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var args = new GemmArgs
            {
                M = m, N = n, K = k, Ldc = n, Alpha = 1f, Beta = 0f, A = pa, B = pb, C = pc, Kind = s_kind, Epilogue = epilogue,
            };
            RunThreaded(&args);
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

    // The whole of C: on the calling thread under ParallelThreshold multiply-adds, else partitioned over the workers.
    private static void RunThreaded(GemmArgs* args)
    {
        long work = (long)args->M * args->N * args->K;
        int threads = work < ParallelThreshold ? 1 : Math.Min(s_threadCount, Environment.ProcessorCount);
        if (threads <= 1)
        {
            RunBlocked(args, 0, args->M, 0, args->N);
            return;
        }
        Partition(args, threads);
        WorkerPool.Run(args->Parts, &RunPart, args);
    }

    private struct GemmArgs
    {
        public bool TransA, TransB;
        public int M, N, K;
        // Row stride of C (N unless a caller writes a column block of a wider matrix, see SgemmIntoColumns).
        public int Ldc;
        public float Alpha, Beta;
        public float* A, B, C;
        // Applied to C after its last depth block, while each tile is in L1: C[i, ·] = act(C[i, ·] + RowBias[i]).
        public GemmEpilogue Epilogue;
        // op(B) prepacked by Prepack (B unused): depth block at pc starts at Packed + pc·PackedN.
        public float* Packed;
        public int PackedN;
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

    // Picks the split (rows or columns) whose busiest thread computes the fewest tile lanes. Counting lanes, not tiles,
    // matters for narrow matrices: ResNet-50's 14×14 1×1 convolutions (N = 196 = 3 × 64 + 4) split by columns gave one
    // thread 128 columns and the other 64 + 4 (152 -> 172 GFLOP/s split by rows instead).
    private static void Partition(GemmArgs* g, int threads)
    {
        int nr = TileWidth(g->Kind), step = StepOf(g->Kind);
        int rowTiles = (g->M + MR - 1) / MR, colTiles = (g->N + nr - 1) / nr;
        long byCols = BusiestPart(colTiles, threads, nr, g->N, step) * ((long)rowTiles * MR);
        long byRows = BusiestPart(rowTiles, threads, MR, g->M, 2) * (((long)g->N + step - 1) / step * step);
        g->SplitRows = byRows < byCols;
        g->Unit = g->SplitRows ? MR : nr;
        g->Tiles = g->SplitRows ? rowTiles : colTiles;
        g->Parts = Math.Min(threads, g->Tiles);
    }

    // Lanes (rows or columns, the last partial tile rounded up to `round`) of the largest of min(threads, tiles) parts
    // cut as RunPart cuts them.
    private static long BusiestPart(int tiles, int threads, int unit, int extent, int round)
    {
        int parts = Math.Min(threads, tiles);
        long busiest = 0;
        for (int part = 0; part < parts; part++)
        {
            long t0 = (long)tiles * part / parts, t1 = (long)tiles * (part + 1) / parts;
            long lanes = Math.Min(t1 * unit, extent) - (t0 * unit);
            busiest = Math.Max(busiest, (lanes + round - 1) / round * round);
        }
        return busiest;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
}
