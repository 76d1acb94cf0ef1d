using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

/// <summary>
/// C = alpha·A·Bᵀ + beta·C for tiny M and N and a long K (a convolution's weight gradient over one image's positions, e.g.
/// LeNet conv1: 25 × 20 × 576): each C element is a dot product of two rows read in place, 4 × 4 of them at a time in
/// Vector512 accumulators. The blocked path would spend more on packing and on C tiles than on arithmetic here.
/// </summary>
public static unsafe partial class Gemm
{
    // Where it beats the blocked path (one thread, GFLOP/s): 25×20×576 132 vs 92, 8×8×1000 130 vs 26; 20×25×576 and
    // 12×30×300 break even; 32×32×256 loses (115 vs 193): the 16 horizontal sums per 4×4 tile need long rows, and a
    // blocked tile wastes little once N fills 32 columns.
    private const int DotMaxRows = 32;
    private const int DotMaxColumns = 24;
    private const int DotMinDepth = 256;

    // Both operands are row-major along k: A (m, k), B (n, k).
    private static bool UseDot(bool transA, bool transB, int m, int n, int k) =>
        !transA && transB && m <= DotMaxRows && n <= DotMaxColumns && k >= DotMinDepth && s_kind == KernelKind.V512;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotNT(int m, int n, int k, float alpha, float* a, float* b, float beta, float* c)
    {
        Vector512<float> tailMask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(k % 16)).AsSingle();
        float* sums = stackalloc float[16];
        for (int i = 0; i < m; i += 4)
        {
            // Rows past the edge repeat the last row (read, never stored).
            float* a0 = a + ((long)i * k), a1 = a0 + (i + 1 < m ? k : 0), a2 = a1 + (i + 2 < m ? k : 0), a3 = a2 + (i + 3 < m ? k : 0);
            for (int j = 0; j < n; j += 4)
            {
                float* b0 = b + ((long)j * k), b1 = b0 + (j + 1 < n ? k : 0), b2 = b1 + (j + 2 < n ? k : 0), b3 = b2 + (j + 3 < n ? k : 0);
                Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
                Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
                Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
                Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
                int p = 0;
                for (; p + 16 <= k; p += 16)
                {
                    Dot4x4(Vector512.Load(a0 + p), Vector512.Load(a1 + p), Vector512.Load(a2 + p), Vector512.Load(a3 + p),
                        Vector512.Load(b0 + p), Vector512.Load(b1 + p), Vector512.Load(b2 + p), Vector512.Load(b3 + p),
                        ref s00, ref s01, ref s02, ref s03, ref s10, ref s11, ref s12, ref s13,
                        ref s20, ref s21, ref s22, ref s23, ref s30, ref s31, ref s32, ref s33);
                }
                if (p < k)
                {
                    Vector512<float> z = Vector512<float>.Zero;
                    Dot4x4(Avx512F.MaskLoad(a0 + p, tailMask, z), Avx512F.MaskLoad(a1 + p, tailMask, z),
                        Avx512F.MaskLoad(a2 + p, tailMask, z), Avx512F.MaskLoad(a3 + p, tailMask, z),
                        Avx512F.MaskLoad(b0 + p, tailMask, z), Avx512F.MaskLoad(b1 + p, tailMask, z),
                        Avx512F.MaskLoad(b2 + p, tailMask, z), Avx512F.MaskLoad(b3 + p, tailMask, z),
                        ref s00, ref s01, ref s02, ref s03, ref s10, ref s11, ref s12, ref s13,
                        ref s20, ref s21, ref s22, ref s23, ref s30, ref s31, ref s32, ref s33);
                }
                sums[0] = Vector512.Sum(s00); sums[1] = Vector512.Sum(s01); sums[2] = Vector512.Sum(s02); sums[3] = Vector512.Sum(s03);
                sums[4] = Vector512.Sum(s10); sums[5] = Vector512.Sum(s11); sums[6] = Vector512.Sum(s12); sums[7] = Vector512.Sum(s13);
                sums[8] = Vector512.Sum(s20); sums[9] = Vector512.Sum(s21); sums[10] = Vector512.Sum(s22); sums[11] = Vector512.Sum(s23);
                sums[12] = Vector512.Sum(s30); sums[13] = Vector512.Sum(s31); sums[14] = Vector512.Sum(s32); sums[15] = Vector512.Sum(s33);
                int rows = Math.Min(4, m - i), cols = Math.Min(4, n - j);
                for (int r = 0; r < rows; r++)
                {
                    float* cr = c + ((long)(i + r) * n) + j;
                    for (int q = 0; q < cols; q++)
                    {
                        float v = alpha * sums[(r * 4) + q];
                        cr[q] = beta == 0 ? v : MathF.FusedMultiplyAdd(cr[q], beta, v);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4x4(Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3,
        Vector512<float> y0, Vector512<float> y1, Vector512<float> y2, Vector512<float> y3,
        ref Vector512<float> s00, ref Vector512<float> s01, ref Vector512<float> s02, ref Vector512<float> s03,
        ref Vector512<float> s10, ref Vector512<float> s11, ref Vector512<float> s12, ref Vector512<float> s13,
        ref Vector512<float> s20, ref Vector512<float> s21, ref Vector512<float> s22, ref Vector512<float> s23,
        ref Vector512<float> s30, ref Vector512<float> s31, ref Vector512<float> s32, ref Vector512<float> s33)
    {
        s00 = Vector512.FusedMultiplyAdd(x0, y0, s00); s01 = Vector512.FusedMultiplyAdd(x0, y1, s01);
        s02 = Vector512.FusedMultiplyAdd(x0, y2, s02); s03 = Vector512.FusedMultiplyAdd(x0, y3, s03);
        s10 = Vector512.FusedMultiplyAdd(x1, y0, s10); s11 = Vector512.FusedMultiplyAdd(x1, y1, s11);
        s12 = Vector512.FusedMultiplyAdd(x1, y2, s12); s13 = Vector512.FusedMultiplyAdd(x1, y3, s13);
        s20 = Vector512.FusedMultiplyAdd(x2, y0, s20); s21 = Vector512.FusedMultiplyAdd(x2, y1, s21);
        s22 = Vector512.FusedMultiplyAdd(x2, y2, s22); s23 = Vector512.FusedMultiplyAdd(x2, y3, s23);
        s30 = Vector512.FusedMultiplyAdd(x3, y0, s30); s31 = Vector512.FusedMultiplyAdd(x3, y1, s31);
        s32 = Vector512.FusedMultiplyAdd(x3, y2, s32); s33 = Vector512.FusedMultiplyAdd(x3, y3, s33);
    }
}
