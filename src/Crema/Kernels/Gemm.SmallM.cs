using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crema.Kernels;

/// <summary>
/// C (m, n) = A (m, k) · op(B) + bias for a handful of rows m (an InnerProduct at batch 1–8): B is read once, straight
/// from where it lies, at memory bandwidth, split by output columns over the worker threads. The blocked path would
/// repack all of B (fc6: 151 MB) on every call for a few rows of arithmetic.
/// </summary>
public static unsafe partial class Gemm
{
    /// <summary>Rows up to which <see cref="SgemmSmallM"/> beats the blocked path (B streams from memory once, then ⌈m/2⌉ − 1 times from L2).</summary>
    public const int SmallMMaxRows = 16;

    // Below this many multiply-adds one thread is quicker than a dispatch.
    private const long SmallMParallelThreshold = 1L << 18;

    private struct SmallMArgs
    {
        public bool TransB;
        public int M, N, K, Parts;
        public float* A, B, Bias, C;
    }

    /// <summary>
    /// C = A·op(B) (+ bias broadcast over rows when <paramref name="bias"/> is not empty), C overwritten. A: (m, k) row-major;
    /// B: (n, k) when <paramref name="transB"/> (C[i, j] = A row i · B row j, InnerProduct's usual layout), else (k, n).
    /// Any m works; it is meant for m ≤ <see cref="SmallMMaxRows"/>.
    /// </summary>
    public static void SgemmSmallM(bool transB, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b,
        ReadOnlySpan<float> bias, Span<float> c)
    {
        ValidateGemm(m, n, k, a.Length, b.Length, c.Length);
        if (!bias.IsEmpty && bias.Length < n)
        {
            throw new ArgumentException($"Span 'bias' has {bias.Length} elements but C has {n} columns.", nameof(bias));
        }
        if (m == 0 || n == 0)
        {
            return;
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pbias = bias)
        fixed (float* pc = c)
        {
            var args = new SmallMArgs { TransB = transB, M = m, N = n, K = k, A = pa, B = pb, Bias = bias.IsEmpty ? null : pbias, C = pc };
            long work = (long)m * n * k;
            // Parts own whole 64-column blocks (no shared cache lines in C or in a (k, n) B).
            args.Parts = work < SmallMParallelThreshold ? 1 : Math.Max(1, Math.Min(WorkerPool.Threads, (n + 63) / 64));
            if (args.Parts == 1)
            {
                RunSmallMPart(&args, 0);
            }
            else
            {
                WorkerPool.Run(args.Parts, &RunSmallMPart, &args);
            }
        }
    }

    private static void RunSmallMPart(void* ctx, int part)
    {
        var p = (SmallMArgs*)ctx;
        var (j0, j1) = WorkerPool.SliceAligned(p->N, part, p->Parts);
        if (p->TransB)
        {
            SmallMRowsNT(p->M, p->N, p->K, p->A, p->B, p->Bias, p->C, j0, j1);
        }
        else
        {
            SmallMRowsNN(p->M, p->N, p->K, p->A, p->B, p->Bias, p->C, j0, j1);
        }
    }

    // B (n, k): for 4 B rows at a time and 2 A rows at a time, 8 dot products over k in vector accumulators. The 4 B rows
    // come from memory once; the second A pair reads them again from L2 (4 rows of fc6 = 144 KB).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SmallMRowsNT(int m, int n, int k, float* a, float* b, float* bias, float* c, int j0, int j1)
    {
        for (int j = j0; j < j1; j += 4)
        {
            int cols = Math.Min(4, j1 - j);
            // Columns past the slice repeat the last one (read, never stored).
            float* b0 = b + ((long)j * k), b1 = b0 + (cols > 1 ? k : 0), b2 = b1 + (cols > 2 ? k : 0), b3 = b2 + (cols > 3 ? k : 0);
            for (int i = 0; i < m; i += 2)
            {
                float* a0 = a + ((long)i * k), a1 = a0 + (i + 1 < m ? k : 0);
                float s00, s01, s02, s03, s10, s11, s12, s13;
                int p = 0;
                if (Vector256.IsHardwareAccelerated && k >= 8)
                {
                    Vector256<float> v00 = default, v01 = default, v02 = default, v03 = default;
                    Vector256<float> v10 = default, v11 = default, v12 = default, v13 = default;
                    for (; p + 8 <= k; p += 8)
                    {
                        Vector256<float> x0 = Vector256.Load(a0 + p), x1 = Vector256.Load(a1 + p);
                        Vector256<float> y = Vector256.Load(b0 + p);
                        v00 = Vector256.FusedMultiplyAdd(x0, y, v00); v10 = Vector256.FusedMultiplyAdd(x1, y, v10);
                        y = Vector256.Load(b1 + p);
                        v01 = Vector256.FusedMultiplyAdd(x0, y, v01); v11 = Vector256.FusedMultiplyAdd(x1, y, v11);
                        y = Vector256.Load(b2 + p);
                        v02 = Vector256.FusedMultiplyAdd(x0, y, v02); v12 = Vector256.FusedMultiplyAdd(x1, y, v12);
                        y = Vector256.Load(b3 + p);
                        v03 = Vector256.FusedMultiplyAdd(x0, y, v03); v13 = Vector256.FusedMultiplyAdd(x1, y, v13);
                    }
                    s00 = Vector256.Sum(v00); s01 = Vector256.Sum(v01); s02 = Vector256.Sum(v02); s03 = Vector256.Sum(v03);
                    s10 = Vector256.Sum(v10); s11 = Vector256.Sum(v11); s12 = Vector256.Sum(v12); s13 = Vector256.Sum(v13);
                }
                else if (Vector128.IsHardwareAccelerated && k >= 4)
                {
                    Vector128<float> v00 = default, v01 = default, v02 = default, v03 = default;
                    Vector128<float> v10 = default, v11 = default, v12 = default, v13 = default;
                    for (; p + 4 <= k; p += 4)
                    {
                        Vector128<float> x0 = Vector128.Load(a0 + p), x1 = Vector128.Load(a1 + p);
                        Vector128<float> y = Vector128.Load(b0 + p);
                        v00 += x0 * y; v10 += x1 * y;
                        y = Vector128.Load(b1 + p);
                        v01 += x0 * y; v11 += x1 * y;
                        y = Vector128.Load(b2 + p);
                        v02 += x0 * y; v12 += x1 * y;
                        y = Vector128.Load(b3 + p);
                        v03 += x0 * y; v13 += x1 * y;
                    }
                    s00 = Vector128.Sum(v00); s01 = Vector128.Sum(v01); s02 = Vector128.Sum(v02); s03 = Vector128.Sum(v03);
                    s10 = Vector128.Sum(v10); s11 = Vector128.Sum(v11); s12 = Vector128.Sum(v12); s13 = Vector128.Sum(v13);
                }
                else
                {
                    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0;
                }
                for (; p < k; p++)
                {
                    float x0 = a0[p], x1 = a1[p];
                    s00 += x0 * b0[p]; s01 += x0 * b1[p]; s02 += x0 * b2[p]; s03 += x0 * b3[p];
                    s10 += x1 * b0[p]; s11 += x1 * b1[p]; s12 += x1 * b2[p]; s13 += x1 * b3[p];
                }
                StoreSmallM(c + ((long)i * n) + j, bias == null ? null : bias + j, cols, s00, s01, s02, s03);
                if (i + 1 < m)
                {
                    StoreSmallM(c + ((long)(i + 1) * n) + j, bias == null ? null : bias + j, cols, s10, s11, s12, s13);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSmallM(float* c, float* bias, int cols, float s0, float s1, float s2, float s3)
    {
        c[0] = s0 + (bias == null ? 0 : bias[0]);
        if (cols > 1)
        {
            c[1] = s1 + (bias == null ? 0 : bias[1]);
        }
        if (cols > 2)
        {
            c[2] = s2 + (bias == null ? 0 : bias[2]);
        }
        if (cols > 3)
        {
            c[3] = s3 + (bias == null ? 0 : bias[3]);
        }
    }

    // B (k, n): C rows start at the bias (or 0), then every row p of B's column slice adds A[i, p] · B[p, j0..j1) to each
    // of the m C rows, 4 vectors at a time. B's slice streams from memory once; the C rows stay in L1.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SmallMRowsNN(int m, int n, int k, float* a, float* b, float* bias, float* c, int j0, int j1)
    {
        for (int i = 0; i < m; i++)
        {
            float* ci = c + ((long)i * n);
            for (int j = j0; j < j1; j++)
            {
                ci[j] = bias == null ? 0 : bias[j];
            }
        }
        for (int p = 0; p < k; p++)
        {
            float* bp = b + ((long)p * n);
            for (int i = 0; i < m; i++)
            {
                float x = a[((long)i * k) + p];
                float* ci = c + ((long)i * n);
                int j = j0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var vx = Vector256.Create(x);
                    for (; j + 32 <= j1; j += 32)
                    {
                        Vector256.FusedMultiplyAdd(vx, Vector256.Load(bp + j), Vector256.Load(ci + j)).Store(ci + j);
                        Vector256.FusedMultiplyAdd(vx, Vector256.Load(bp + j + 8), Vector256.Load(ci + j + 8)).Store(ci + j + 8);
                        Vector256.FusedMultiplyAdd(vx, Vector256.Load(bp + j + 16), Vector256.Load(ci + j + 16)).Store(ci + j + 16);
                        Vector256.FusedMultiplyAdd(vx, Vector256.Load(bp + j + 24), Vector256.Load(ci + j + 24)).Store(ci + j + 24);
                    }
                    for (; j + 8 <= j1; j += 8)
                    {
                        Vector256.FusedMultiplyAdd(vx, Vector256.Load(bp + j), Vector256.Load(ci + j)).Store(ci + j);
                    }
                }
                else if (Vector128.IsHardwareAccelerated)
                {
                    var vx = Vector128.Create(x);
                    for (; j + 4 <= j1; j += 4)
                    {
                        (Vector128.Load(ci + j) + (vx * Vector128.Load(bp + j))).Store(ci + j);
                    }
                }
                for (; j < j1; j++)
                {
                    ci[j] += x * bp[j];
                }
            }
        }
    }
}
