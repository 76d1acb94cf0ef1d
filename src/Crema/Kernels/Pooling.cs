using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crema.Kernels;

/// <summary>Geometry of 2-D pooling over (H, W) planes: window (KernelH, KernelW) every (StrideH, StrideW), padded by (PadH, PadW).</summary>
internal readonly record struct PoolShape(int Height, int Width, int PooledHeight, int PooledWidth,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW)
{
    public int PlaneIn => Height * Width;
    public int PlaneOut => PooledHeight * PooledWidth;
}

/// <summary>
/// Max, average and stochastic pooling over independent planes with Caffe's window rules.
/// Shapes: input (planes, H, W), output (planes, PH, PW); a mask holds the flat index h·W + w of the chosen input in its plane.
/// Backward methods add into the bottom diff (the caller clears it).
/// </summary>
internal static class Pooling
{
    /// <summary>
    /// Max over each window clipped to the image; ties keep the first in row-major order; an empty window gives −FLT_MAX and
    /// mask −1. An empty <paramref name="mask"/> skips the argmax bookkeeping (inference: no backward will read it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void MaxForward(ReadOnlySpan<float> input, int planes, in PoolShape s, Span<float> output, Span<int> mask)
    {
        int pooledW = s.PooledWidth, planeOut = s.PlaneOut, planeIn = s.PlaneIn, width = s.Width;
        if (planes <= 0 || planeOut <= 0)
        {
            return;
        }
        bool withMask = !mask.IsEmpty;
        if (pooledW > 1024 || planeIn == 0)
        {
            int[]? scratch = withMask ? null : System.Buffers.ArrayPool<int>.Shared.Rent(planes * planeOut);
            PoolingNaive.MaxForward(input, planes, s, output, withMask ? mask : scratch);
            if (scratch != null)
            {
                System.Buffers.ArrayPool<int>.Shared.Return(scratch);
            }
            return;
        }
        // The pointer loops below stay within these bounds.
        _ = input[(planes * planeIn) - 1];
        _ = output[(planes * planeOut) - 1];
        if (withMask)
        {
            _ = mask[(planes * planeOut) - 1];
        }
        // Window columns depend only on pw: clip them once, not once per output.
        Span<int> wStarts = stackalloc int[pooledW];
        Span<int> wEnds = stackalloc int[pooledW];
        for (int pw = 0; pw < pooledW; pw++)
        {
            wStarts[pw] = Math.Max((pw * s.StrideW) - s.PadW, 0);
            wEnds[pw] = Math.Min((pw * s.StrideW) - s.PadW + s.KernelW, width);
        }
        bool vector = PoolingVector.Usable(s.StrideW);
        PoolingVector.InteriorColumns(s, out int lo, out int hi);
        long inputLength = (long)planes * planeIn;
        int readSpan = PoolingVector.ReadSpan(s.KernelW, s.StrideW);
        fixed (float* pin = input)
        fixed (float* pout = output)
        fixed (int* pmask = mask)
        fixed (int* pws = wStarts)
        fixed (int* pwe = wEnds)
        {
            float* y = pout;
            // Row offset into the mask (unused without one: pmask is null then).
            nint mo = 0;
            int lanes = PoolingVector.Lanes;
            for (int p = 0; p < planes; p++)
            {
                float* x = pin + ((nint)p * planeIn);
                for (int ph = 0; ph < s.PooledHeight; ph++, y += pooledW, mo += pooledW)
                {
                    int hStart = Math.Max((ph * s.StrideH) - s.PadH, 0);
                    int hEnd = Math.Min((ph * s.StrideH) - s.PadH + s.KernelH, s.Height);
                    int* m = withMask ? pmask + mo : null;
                    int pw = 0;
                    for (; pw < lo; pw++)
                    {
                        MaxWindow(x, width, hStart, hEnd, pws[pw], pwe[pw], y + pw, m == null ? null : m + pw);
                    }
                    // Interior windows a chunk at a time, while the last lane's loads stay inside the input.
                    long lastRow = ((long)p * planeIn) + ((long)(hEnd - 1) * width) - s.PadW;
                    while (vector && pw < hi && hEnd > hStart && lastRow + ((long)pw * s.StrideW) + readSpan <= inputLength)
                    {
                        int count = Math.Min(lanes, hi - pw);
                        PoolingVector.Max(x, width, hStart, hEnd, (pw * s.StrideW) - s.PadW, s.KernelW, s.StrideW, y + pw, m == null ? null : m + pw, count);
                        pw += count;
                    }
                    for (; pw < pooledW; pw++)
                    {
                        MaxWindow(x, width, hStart, hEnd, pws[pw], pwe[pw], y + pw, m == null ? null : m + pw);
                    }
                }
            }
        }
    }

    // Max of one window, ties to the first in row-major order; −FLT_MAX and −1 when the window is empty.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MaxWindow(float* x, int width, int hStart, int hEnd, int wStart, int wEnd, float* y, int* m)
    {
        float best = float.MinValue;
        int bestIndex = -1;
        for (int h = hStart; h < hEnd; h++)
        {
            int rowStart = h * width;
            float* row = x + rowStart;
            for (int w = wStart; w < wEnd; w++)
            {
                if (row[w] > best)
                {
                    best = row[w];
                    bestIndex = rowStart + w;
                }
            }
        }
        *y = best;
        if (m != null)
        {
            *m = bestIndex;
        }
    }

    /// <summary>Routes each top gradient to the input its mask names (used by MAX and by STOCHASTIC in training).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskBackward(ReadOnlySpan<float> topDiff, ReadOnlySpan<int> mask, int planes, in PoolShape s, Span<float> bottomDiff)
    {
        for (int p = 0; p < planes; p++)
        {
            var dx = bottomDiff.Slice(p * s.PlaneIn, s.PlaneIn);
            int o = p * s.PlaneOut;
            for (int j = 0; j < s.PlaneOut; j++, o++)
            {
                int i = mask[o];
                if (i >= 0)
                {
                    dx[i] += topDiff[o];
                }
            }
        }
    }

    /// <summary>
    /// Mean over each window. NOTE: the divisor is the window clipped to the padded image (in + pad), counted before
    /// clipping to the image, so padded cells count as zeros, as in Caffe.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void AveForward(ReadOnlySpan<float> input, int planes, in PoolShape s, Span<float> output)
    {
        // Windows up to 3 wide add in the same order as RowSum's scalar loop, so 16 interior windows at a time give the
        // same floats; wider windows (RowSum uses TensorPrimitives.Sum) stay on the scalar path.
        bool vector = PoolingVector.Usable(s.StrideW) && s.KernelW < 4 && s.PlaneIn > 0;
        PoolingVector.InteriorColumns(s, out int lo, out int hi);
        long inputLength = (long)planes * s.PlaneIn;
        int readSpan = PoolingVector.ReadSpan(s.KernelW, s.StrideW);
        fixed (float* pin = input)
        fixed (float* pout = output)
        {
            for (int p = 0; p < planes; p++)
            {
                var x = input.Slice(p * s.PlaneIn, s.PlaneIn);
                int o = p * s.PlaneOut;
                for (int ph = 0; ph < s.PooledHeight; ph++, o += s.PooledWidth)
                {
                    Window(ph, s.StrideH, s.PadH, s.KernelH, s.Height, out int hStart, out int hEnd, out int hSize);
                    int pw = 0;
                    if (vector && hEnd > hStart)
                    {
                        for (; pw < lo; pw++)
                        {
                            output[o + pw] = AveWindow(x, s, hStart, hEnd, hSize, pw);
                        }
                        long lastRow = ((long)p * s.PlaneIn) + ((long)(hEnd - 1) * s.Width) - s.PadW;
                        while (pw < hi && lastRow + ((long)pw * s.StrideW) + readSpan <= inputLength)
                        {
                            int count = Math.Min(PoolingVector.Lanes, hi - pw);
                            PoolingVector.Average(pin + ((nint)p * s.PlaneIn), s.Width, hStart, hEnd, (pw * s.StrideW) - s.PadW,
                                s.KernelW, s.StrideW, hSize * s.KernelW, pout + o + pw, count);
                            pw += count;
                        }
                    }
                    for (; pw < s.PooledWidth; pw++)
                    {
                        output[o + pw] = AveWindow(x, s, hStart, hEnd, hSize, pw);
                    }
                }
            }
        }
    }

    // The mean of window (ph's rows [hStart, hEnd), column pw) of plane x.
    private static float AveWindow(ReadOnlySpan<float> x, in PoolShape s, int hStart, int hEnd, int hSize, int pw)
    {
        Window(pw, s.StrideW, s.PadW, s.KernelW, s.Width, out int wStart, out int wEnd, out int wSize);
        float sum = 0;
        for (int h = hStart; h < hEnd; h++)
        {
            sum += RowSum(x.Slice(h * s.Width + wStart, wEnd - wStart));
        }
        return sum / (hSize * wSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AveBackward(ReadOnlySpan<float> topDiff, int planes, in PoolShape s, Span<float> bottomDiff)
    {
        for (int p = 0; p < planes; p++)
        {
            var dx = bottomDiff.Slice(p * s.PlaneIn, s.PlaneIn);
            int o = p * s.PlaneOut;
            for (int ph = 0; ph < s.PooledHeight; ph++)
            {
                Window(ph, s.StrideH, s.PadH, s.KernelH, s.Height, out int hStart, out int hEnd, out int hSize);
                for (int pw = 0; pw < s.PooledWidth; pw++, o++)
                {
                    Window(pw, s.StrideW, s.PadW, s.KernelW, s.Width, out int wStart, out int wEnd, out int wSize);
                    float g = topDiff[o] / (hSize * wSize);
                    for (int h = hStart; h < hEnd; h++)
                    {
                        AddToRow(dx.Slice(h * s.Width + wStart, wEnd - wStart), g);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Training-time stochastic pooling: picks one input of each window with probability x / Σwindow (inputs must be ≥ 0),
    /// drawing from <see cref="Rng"/>. NOTE: windows ignore padding, as in Caffe. An all-zero window picks its first element.
    /// </summary>
    public static void StochasticForwardTrain(ReadOnlySpan<float> input, int planes, in PoolShape s, Span<float> output, Span<int> mask)
    {
        for (int p = 0; p < planes; p++)
        {
            var x = input.Slice(p * s.PlaneIn, s.PlaneIn);
            int o = p * s.PlaneOut;
            for (int ph = 0; ph < s.PooledHeight; ph++)
            {
                int hStart = ph * s.StrideH;
                int hEnd = Math.Min(hStart + s.KernelH, s.Height);
                for (int pw = 0; pw < s.PooledWidth; pw++, o++)
                {
                    int wStart = pw * s.StrideW;
                    int wEnd = Math.Min(wStart + s.KernelW, s.Width);
                    float sum = 0;
                    for (int h = hStart; h < hEnd; h++)
                    {
                        sum += System.Numerics.Tensors.TensorPrimitives.Sum(x.Slice(h * s.Width + wStart, wEnd - wStart));
                    }
                    float threshold = Rng.Uniform(0f, 1f) * sum;
                    int chosen = -1;
                    float cumulative = 0;
                    for (int h = hStart; h < hEnd && chosen < 0; h++)
                    {
                        for (int w = wStart; w < wEnd; w++)
                        {
                            int i = h * s.Width + w;
                            cumulative += x[i];
                            if (cumulative >= threshold)
                            {
                                chosen = i;
                                break;
                            }
                        }
                    }
                    if (chosen < 0)
                    {
                        // Rounding left the threshold just above the float sum: take the last element.
                        chosen = (hEnd - 1) * s.Width + wEnd - 1;
                    }
                    output[o] = x[chosen];
                    mask[o] = chosen;
                }
            }
        }
    }

    // Σx and Σx² over one window of a plane x: (H, W).
    private static (float Sum, float SumSquares) WindowSums(ReadOnlySpan<float> x, int width, int hStart, int hEnd, int wStart, int wEnd)
    {
        float sum = 0, sumSquares = 0;
        for (int h = hStart; h < hEnd; h++)
        {
            var row = x.Slice(h * width + wStart, wEnd - wStart);
            sum += System.Numerics.Tensors.TensorPrimitives.Sum(row);
            sumSquares += System.Numerics.Tensors.TensorPrimitives.SumOfSquares(row);
        }
        return (sum, sumSquares);
    }

    /// <summary>Test-time stochastic pooling: the probability-weighted mean Σx² / Σx of each window (0 when Σx = 0).</summary>
    public static void StochasticForwardTest(ReadOnlySpan<float> input, int planes, in PoolShape s, Span<float> output)
    {
        for (int p = 0; p < planes; p++)
        {
            var x = input.Slice(p * s.PlaneIn, s.PlaneIn);
            int o = p * s.PlaneOut;
            for (int ph = 0; ph < s.PooledHeight; ph++)
            {
                int hStart = ph * s.StrideH;
                int hEnd = Math.Min(hStart + s.KernelH, s.Height);
                for (int pw = 0; pw < s.PooledWidth; pw++, o++)
                {
                    int wStart = pw * s.StrideW;
                    int wEnd = Math.Min(wStart + s.KernelW, s.Width);
                    var (sum, sumSquares) = WindowSums(x, s.Width, hStart, hEnd, wStart, wEnd);
                    output[o] = sum == 0 ? 0 : sumSquares / sum;
                }
            }
        }
    }

    /// <summary>Gradient of <see cref="StochasticForwardTest"/>: d(S2/S1)/dx_i = (2·x_i·S1 − S2) / S1².</summary>
    public static void StochasticBackwardTest(ReadOnlySpan<float> input, ReadOnlySpan<float> topDiff, int planes, in PoolShape s, Span<float> bottomDiff)
    {
        for (int p = 0; p < planes; p++)
        {
            var x = input.Slice(p * s.PlaneIn, s.PlaneIn);
            var dx = bottomDiff.Slice(p * s.PlaneIn, s.PlaneIn);
            int o = p * s.PlaneOut;
            for (int ph = 0; ph < s.PooledHeight; ph++)
            {
                int hStart = ph * s.StrideH;
                int hEnd = Math.Min(hStart + s.KernelH, s.Height);
                for (int pw = 0; pw < s.PooledWidth; pw++, o++)
                {
                    int wStart = pw * s.StrideW;
                    int wEnd = Math.Min(wStart + s.KernelW, s.Width);
                    var (sum, sumSquares) = WindowSums(x, s.Width, hStart, hEnd, wStart, wEnd);
                    if (sum == 0)
                    {
                        continue;
                    }
                    float g = topDiff[o] / (sum * sum);
                    for (int h = hStart; h < hEnd; h++)
                    {
                        for (int w = wStart; w < wEnd; w++)
                        {
                            int i = h * s.Width + w;
                            dx[i] += g * (2 * x[i] * sum - sumSquares);
                        }
                    }
                }
            }
        }
    }

    // Pooling windows are mostly 2–3 wide: below 4 elements TensorPrimitives adds in this same order, without the call's overhead.
    private static float RowSum(ReadOnlySpan<float> row)
    {
        if (row.Length >= 4)
        {
            return System.Numerics.Tensors.TensorPrimitives.Sum(row);
        }
        float sum = 0;
        foreach (float v in row)
        {
            sum += v;
        }
        return sum;
    }

    private static void AddToRow(Span<float> row, float g)
    {
        if (row.Length >= 4)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(row, g, row);
            return;
        }
        for (int i = 0; i < row.Length; i++)
        {
            row[i] += g;
        }
    }

    // Window [start, end) clipped to the image, and its size clipped only to the padded image (AVE's divisor).
    private static void Window(int index, int stride, int pad, int kernel, int size, out int start, out int end, out int poolSize)
    {
        start = index * stride - pad;
        end = Math.Min(start + kernel, size + pad);
        poolSize = end - start;
        start = Math.Max(start, 0);
        end = Math.Min(end, size);
    }
}
