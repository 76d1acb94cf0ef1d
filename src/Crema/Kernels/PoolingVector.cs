using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

/// <summary>
/// 16 pooling windows of one output row at once (AVX-512, horizontal stride 1 or 2): the windows whose columns need no
/// clipping. Lane l of a chunk starting at output column pw0 covers input columns (pw0 + l)·stride − pad + kw.
/// </summary>
internal static unsafe class PoolingVector
{
    public const int Lanes = 16;

    /// <summary>True where this process can use the chunk kernels for a horizontal stride of <paramref name="strideW"/>.</summary>
    public static bool Usable(int strideW) => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && (strideW == 1 || strideW == 2);

    /// <summary>Output columns [lo, hi) whose windows lie inside the image horizontally.</summary>
    public static void InteriorColumns(in PoolShape s, out int lo, out int hi)
    {
        lo = (s.PadW + s.StrideW - 1) / s.StrideW;
        int last = s.Width + s.PadW - s.KernelW;
        hi = last < 0 ? lo : Math.Clamp((last / s.StrideW) + 1, lo, s.PooledWidth);
        lo = Math.Min(lo, hi);
    }

    /// <summary>Floats past the first window column that a chunk reads in one input row (its last lane's loads).</summary>
    public static int ReadSpan(int kernelW, int strideW) => kernelW - 1 + (strideW == 1 ? Lanes : 2 * Lanes);

    // Selects the even elements of 32 consecutive floats (a constant, built where it is used).
    private static Vector512<int> EvenLanes => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    // Lane l reads p[l·stride] (stride 1 or 2; stride 2 reads 32 consecutive floats and keeps the even ones).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* p, int stride, Vector512<int> even) =>
        stride == 1 ? Vector512.Load(p) : Avx512F.PermuteVar16x32x2(Vector512.Load(p), even, Vector512.Load(p + Lanes));

    /// <summary>
    /// Max of the 16 windows of output columns pw0.. over rows [hStart, hEnd) of plane x (width floats per row), whose first
    /// column is col0 = pw0·stride − pad; y/m get the first <paramref name="count"/> maxima and their indices h·width + w
    /// (the first maximum in row-major order; −FLT_MAX and −1 for an empty window, as the scalar loop).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, float* y, int* m, int count)
    {
        Vector512<int> laneOffset = Vector512<int>.Indices * stride;
        Vector512<int> even = EvenLanes;
        Vector512<float> best = Vector512.Create(float.MinValue);
        Vector512<int> bestIndex = Vector512.Create(-1);
        for (int h = hStart; h < hEnd; h++)
        {
            int rowStart = (h * width) + col0;
            float* row = x + rowStart;
            for (int kw = 0; kw < kernelW; kw++)
            {
                Vector512<float> v = Load(row + kw, stride, even);
                Vector512<float> greater = Vector512.GreaterThan(v, best);
                best = Vector512.ConditionalSelect(greater, v, best);
                bestIndex = Vector512.ConditionalSelect(greater.AsInt32(), laneOffset + Vector512.Create(rowStart + kw), bestIndex);
            }
        }
        if (count == Lanes)
        {
            best.Store(y);
            bestIndex.Store(m);
            return;
        }
        Vector512<int> keep = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count));
        Avx512F.MaskStore(y, keep.AsSingle(), best);
        Avx512F.MaskStore(m, keep, bestIndex);
    }

    /// <summary>
    /// Means of the 16 windows of output columns pw0.. (first column col0 = pw0·stride − pad) over rows [hStart, hEnd):
    /// each row summed left to right from 0, the row sums added in row order, then divided by <paramref name="poolSize"/>
    /// — the scalar loop's order for windows under 4 wide. y gets the first <paramref name="count"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Average(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, int poolSize,
        float* y, int count)
    {
        Vector512<int> even = EvenLanes;
        Vector512<float> sum = Vector512<float>.Zero;
        for (int h = hStart; h < hEnd; h++)
        {
            float* row = x + (h * width) + col0;
            Vector512<float> rowSum = Vector512<float>.Zero;
            for (int kw = 0; kw < kernelW; kw++)
            {
                rowSum += Load(row + kw, stride, even);
            }
            sum += rowSum;
        }
        Vector512<float> mean = sum / Vector512.Create((float)poolSize);
        if (count == Lanes)
        {
            mean.Store(y);
            return;
        }
        Vector512<int> keep = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count));
        Avx512F.MaskStore(y, keep.AsSingle(), mean);
    }
}
