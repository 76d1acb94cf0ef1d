using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

/// <summary>
/// <see cref="Lanes"/> pooling windows of one output row at once (16 with AVX-512, 8 with AVX2; horizontal stride 1 or 2):
/// the windows whose columns need no clipping. Lane l of a chunk starting at output column pw0 covers input columns
/// (pw0 + l)·stride − pad + kw.
/// </summary>
internal static unsafe class PoolingVector
{
    private static readonly bool s_use512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
    private static readonly bool s_use256 = !s_use512 && Vector256.IsHardwareAccelerated && Avx2.IsSupported;

    /// <summary>Windows per chunk: 16 (AVX-512) or 8 (AVX2).</summary>
    public static int Lanes => s_use512 ? 16 : 8;

    /// <summary>True where this process can use the chunk kernels for a horizontal stride of <paramref name="strideW"/>.</summary>
    public static bool Usable(int strideW) => (s_use512 || s_use256) && (strideW == 1 || strideW == 2);

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

    /// <summary>
    /// Max of the <see cref="Lanes"/> windows of output columns pw0.. over rows [hStart, hEnd) of plane x (width floats per
    /// row), whose first column is col0 = pw0·stride − pad; y gets the first <paramref name="count"/> maxima and, unless
    /// <paramref name="m"/> is null, m their indices h·width + w (the first maximum in row-major order; −FLT_MAX and −1 for
    /// an empty window, as the scalar loop).
    /// </summary>
    public static void Max(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, float* y, int* m, int count)
    {
        if (s_use512)
        {
            if (m == null)
            {
                Max512NoMask(x, width, hStart, hEnd, col0, kernelW, stride, y, count);
            }
            else
            {
                Max512(x, width, hStart, hEnd, col0, kernelW, stride, y, m, count);
            }
        }
        else if (m == null)
        {
            Max256NoMask(x, width, hStart, hEnd, col0, kernelW, stride, y, count);
        }
        else
        {
            Max256(x, width, hStart, hEnd, col0, kernelW, stride, y, m, count);
        }
    }

    /// <summary>
    /// Means of the <see cref="Lanes"/> windows of output columns pw0.. (first column col0 = pw0·stride − pad) over rows
    /// [hStart, hEnd): each row summed left to right from 0, the row sums added in row order, then divided by
    /// <paramref name="poolSize"/> — the scalar loop's order for windows under 4 wide. y gets the first <paramref name="count"/>.
    /// </summary>
    public static void Average(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, int poolSize,
        float* y, int count)
    {
        if (s_use512)
        {
            Average512(x, width, hStart, hEnd, col0, kernelW, stride, poolSize, y, count);
        }
        else
        {
            Average256(x, width, hStart, hEnd, col0, kernelW, stride, poolSize, y, count);
        }
    }

    // ---------------------------------------------------------------------------------------------- AVX-512, 16 lanes

    // Selects the even elements of 32 consecutive floats (a constant, built where it is used).
    private static Vector512<int> EvenLanes => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    // Lane l reads p[l·stride] (stride 1 or 2; stride 2 reads 32 consecutive floats and keeps the even ones).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* p, int stride, Vector512<int> even) =>
        stride == 1 ? Vector512.Load(p) : Avx512F.PermuteVar16x32x2(Vector512.Load(p), even, Vector512.Load(p + 16));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Max512(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, float* y, int* m, int count)
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
        if (count == 16)
        {
            best.Store(y);
            bestIndex.Store(m);
            return;
        }
        Vector512<int> keep = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count));
        Avx512F.MaskStore(y, keep.AsSingle(), best);
        Avx512F.MaskStore(m, keep, bestIndex);
    }

    // Inference: the same maxima without the index bookkeeping (max is exact, so the order of comparisons is free).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Max512NoMask(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, float* y, int count)
    {
        Vector512<int> even = EvenLanes;
        Vector512<float> best = Vector512.Create(float.MinValue);
        for (int h = hStart; h < hEnd; h++)
        {
            float* row = x + (h * width) + col0;
            for (int kw = 0; kw < kernelW; kw++)
            {
                Vector512<float> v = Load(row + kw, stride, even);
                best = Vector512.ConditionalSelect(Vector512.GreaterThan(v, best), v, best);
            }
        }
        if (count == 16)
        {
            best.Store(y);
            return;
        }
        Avx512F.MaskStore(y, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle(), best);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Average512(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, int poolSize,
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
        if (count == 16)
        {
            mean.Store(y);
            return;
        }
        Avx512F.MaskStore(y, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle(), mean);
    }

    // ---------------------------------------------------------------------------------------------- AVX2, 8 lanes

    // Lane l reads p[l·stride]: stride 2 loads 16 floats, shuffles the even ones of each 128-bit half together
    // ([a0 a2 b0 b2 | a4 a6 b4 b6]) and puts the 64-bit pairs back in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(float* p, int stride)
    {
        if (stride == 1)
        {
            return Vector256.Load(p);
        }
        Vector256<float> evens = Avx.Shuffle(Vector256.Load(p), Vector256.Load(p + 8), 0b10_00_10_00);
        return Avx2.Permute4x64(evens.AsDouble(), 0b11_01_10_00).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Max256(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, float* y, int* m, int count)
    {
        Vector256<int> laneOffset = Vector256<int>.Indices * stride;
        Vector256<float> best = Vector256.Create(float.MinValue);
        Vector256<int> bestIndex = Vector256.Create(-1);
        for (int h = hStart; h < hEnd; h++)
        {
            int rowStart = (h * width) + col0;
            float* row = x + rowStart;
            for (int kw = 0; kw < kernelW; kw++)
            {
                Vector256<float> v = Load(row + kw, stride);
                Vector256<float> greater = Vector256.GreaterThan(v, best);
                best = Vector256.ConditionalSelect(greater, v, best);
                bestIndex = Vector256.ConditionalSelect(greater.AsInt32(), laneOffset + Vector256.Create(rowStart + kw), bestIndex);
            }
        }
        if (count == 8)
        {
            best.Store(y);
            bestIndex.Store(m);
            return;
        }
        Vector256<int> keep = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count));
        Avx.MaskStore(y, keep.AsSingle(), best);
        Avx2.MaskStore(m, keep, bestIndex);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Max256NoMask(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, float* y, int count)
    {
        Vector256<float> best = Vector256.Create(float.MinValue);
        for (int h = hStart; h < hEnd; h++)
        {
            float* row = x + (h * width) + col0;
            for (int kw = 0; kw < kernelW; kw++)
            {
                Vector256<float> v = Load(row + kw, stride);
                best = Vector256.ConditionalSelect(Vector256.GreaterThan(v, best), v, best);
            }
        }
        if (count == 8)
        {
            best.Store(y);
            return;
        }
        Avx.MaskStore(y, Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle(), best);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Average256(float* x, int width, int hStart, int hEnd, int col0, int kernelW, int stride, int poolSize,
        float* y, int count)
    {
        Vector256<float> sum = Vector256<float>.Zero;
        for (int h = hStart; h < hEnd; h++)
        {
            float* row = x + (h * width) + col0;
            Vector256<float> rowSum = Vector256<float>.Zero;
            for (int kw = 0; kw < kernelW; kw++)
            {
                rowSum += Load(row + kw, stride);
            }
            sum += rowSum;
        }
        Vector256<float> mean = sum / Vector256.Create((float)poolSize);
        if (count == 8)
        {
            mean.Store(y);
            return;
        }
        Avx.MaskStore(y, Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle(), mean);
    }
}
