using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

/// <summary>
/// Geometry of a 2-D im2col/col2im: image (Channels, Height, Width), window (KernelH, KernelW) every (StrideH, StrideW),
/// padded by (PadH, PadW), taps (DilationH, DilationW) apart.
/// </summary>
internal readonly record struct Im2ColShape(int Channels, int Height, int Width, int KernelH, int KernelW,
    int PadH, int PadW, int StrideH, int StrideW, int DilationH, int DilationW)
{
    public int OutputHeight => Im2Col.OutputSize(Height, KernelH, PadH, StrideH, DilationH);

    public int OutputWidth => Im2Col.OutputSize(Width, KernelW, PadW, StrideW, DilationW);
}

/// <summary>
/// Unrolls image patches into columns (im2col) and folds them back (col2im), for convolution as GEMM.
/// Column layout: rows (C, k_0, k_1, …) in that order, columns the output positions (o_0, o_1, …) row-major,
/// so col[(c·Πk + kernel offset), output position] = im[c, o·stride − pad + kernel offset·dilation] (0 outside the image).
/// </summary>
internal static partial class Im2Col
{
    /// <summary>2-D im2col. im: (channels, height, width); col: (channels·kh·kw, outH·outW), fully overwritten.</summary>
    public static void Im2Col2D(ReadOnlySpan<float> im, in Im2ColShape shape, Span<float> col) =>
        Im2Col2DRows(im, shape, 0, shape.OutputHeight, col);

    /// <summary>
    /// The columns of output rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) only: col is
    /// (channels·kh·kw, (rowEnd − rowStart)·outW), fully overwritten — a cache-sized chunk of the full im2col.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Im2Col2DRows(ReadOnlySpan<float> im, in Im2ColShape shape, int rowStart, int rowEnd, Span<float> col)
    {
        int channels = shape.Channels, height = shape.Height, width = shape.Width;
        int kernelH = shape.KernelH, kernelW = shape.KernelW, padH = shape.PadH, padW = shape.PadW;
        int strideH = shape.StrideH, strideW = shape.StrideW, dilationH = shape.DilationH, dilationW = shape.DilationW;
        if (!Geometry(im.Length, col.Length, shape, out int outH, out int outW, rowStart, rowEnd))
        {
            return;
        }
        int planeIn = height * width;
        int planeOut = (rowEnd - rowStart) * outW;
        var gather = StridedGather512.Applies(strideW) ? new StridedGather512(strideW) : default;
        fixed (float* pim = im)
        fixed (float* pcol = col)
        {
            float* dst = pcol;
            for (int c = 0; c < channels; c++)
            {
                float* plane = pim + ((nint)c * planeIn);
                for (int ki = 0; ki < kernelH; ki++)
                {
                    // Output rows of the window whose input row lies inside the image: [ohStart, ohEnd), the same for every kj.
                    int y0 = (ki * dilationH) - padH;
                    ValidRange(y0, strideH, height, outH, out int ohStart, out int ohEnd);
                    ohStart = Math.Clamp(ohStart, rowStart, rowEnd);
                    ohEnd = Math.Clamp(ohEnd, ohStart, rowEnd);
                    for (int kj = 0; kj < kernelW; kj++, dst += planeOut)
                    {
                        int x0 = (kj * dilationW) - padW;
                        ValidRange(x0, strideW, width, outW, out int owStart, out int owEnd);
                        if (ohStart > rowStart || ohEnd < rowEnd)
                        {
                            new Span<float>(dst, (ohStart - rowStart) * outW).Clear();
                            new Span<float>(dst + ((nint)(ohEnd - rowStart) * outW), (rowEnd - ohEnd) * outW).Clear();
                        }
                        float* src = plane + ((nint)((ohStart * strideH) + y0) * width) + x0;
                        float* d = dst + ((nint)(ohStart - rowStart) * outW);
                        nint srcStep = (nint)strideH * width;
                        if (strideW == 1)
                        {
                            CopyRows(d, src, ohEnd - ohStart, outW, srcStep, owStart, owEnd);
                            continue;
                        }
                        for (int oh = ohStart; oh < ohEnd; oh++, d += outW, src += srcStep)
                        {
                            for (int ow = 0; ow < owStart; ow++)
                            {
                                d[ow] = 0f;
                            }
                            int from = owStart;
                            if (strideW == 2)
                            {
                                from += GatherEven(d + owStart, src + (2 * (nint)owStart), owEnd - owStart, pim + im.Length);
                            }
                            else if (strideW > 2)
                            {
                                from += GatherStrided(d + owStart, src + ((nint)strideW * owStart), owEnd - owStart, strideW, gather);
                            }
                            for (int ow = from; ow < owEnd; ow++)
                            {
                                d[ow] = src[(nint)ow * strideW];
                            }
                            for (int ow = owEnd; ow < outW; ow++)
                            {
                                d[ow] = 0f;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>2-D col2im: adds every column entry back into its image position (im is accumulated into, not cleared).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Col2Im2D(ReadOnlySpan<float> col, in Im2ColShape shape, Span<float> im)
    {
        if (shape.StrideW != 1)
        {
            // Strided scatter-adds: the plain loop measured faster than a pointer walk (11×11 stride 4: 3.9 vs 12.9 ms).
            Im2ColNaive.Col2Im2D(col, shape, im);
            return;
        }
        int channels = shape.Channels, height = shape.Height, width = shape.Width;
        int kernelH = shape.KernelH, kernelW = shape.KernelW, padH = shape.PadH, padW = shape.PadW;
        int strideH = shape.StrideH, strideW = shape.StrideW, dilationH = shape.DilationH, dilationW = shape.DilationW;
        if (!Geometry(im.Length, col.Length, shape, out int outH, out int outW))
        {
            return;
        }
        int planeIn = height * width;
        int planeOut = outH * outW;
        fixed (float* pim = im)
        fixed (float* pcol = col)
        {
            float* src = pcol;
            for (int c = 0; c < channels; c++)
            {
                float* plane = pim + ((nint)c * planeIn);
                for (int ki = 0; ki < kernelH; ki++)
                {
                    int y0 = (ki * dilationH) - padH;
                    ValidRange(y0, strideH, height, outH, out int ohStart, out int ohEnd);
                    for (int kj = 0; kj < kernelW; kj++, src += planeOut)
                    {
                        int x0 = (kj * dilationW) - padW;
                        ValidRange(x0, strideW, width, outW, out int owStart, out int owEnd);
                        float* s = src + ((nint)ohStart * outW) + owStart;
                        float* d = plane + ((nint)((ohStart * strideH) + y0) * width) + x0 + owStart;
                        AddRows(d, s, ohEnd - ohStart, owEnd - owStart, (nint)strideH * width, outW);
                    }
                }
            }
        }
    }

    // Output size of a 2-D im2col/col2im, false when there is nothing to do; checks that both buffers hold what the
    // pointer loops index (so a wrong size is an error here, not a read past the end).
    // rowStart/rowEnd: the window of output rows im2col writes (rowEnd −1: all of them).
    private static bool Geometry(int imLength, int colLength, in Im2ColShape shape, out int outH, out int outW, int rowStart = 0, int rowEnd = -1)
    {
        outH = shape.OutputHeight;
        outW = shape.OutputWidth;
        if (shape.Channels <= 0 || outH <= 0 || outW <= 0)
        {
            return false;
        }
        if (rowEnd < 0)
        {
            rowEnd = outH;
        }
        if (rowStart < 0 || rowStart > rowEnd || rowEnd > outH)
        {
            throw new ArgumentOutOfRangeException(nameof(rowStart), $"im2col: output rows [{rowStart}, {rowEnd}) outside [0, {outH})");
        }
        if (rowEnd == rowStart)
        {
            return false;
        }
        long imNeeded = (long)shape.Channels * shape.Height * shape.Width;
        long colNeeded = (long)shape.Channels * shape.KernelH * shape.KernelW * (rowEnd - rowStart) * outW;
        if (imLength < imNeeded || colLength < colNeeded)
        {
            throw new ArgumentException($"im2col: image needs {imNeeded} floats (has {imLength}), columns need {colNeeded} (has {colLength})");
        }
        return true;
    }

    // Output columns [start, end) whose input column x0 + ow·stride lies inside [0, width).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ValidRange(int x0, int stride, int width, int outW, out int start, out int end)
    {
        if (stride == 1)
        {
            // No divisions: called once per kernel tap, where two integer divides cost as much as copying the row.
            start = Math.Clamp(-x0, 0, outW);
            end = Math.Max(start, Math.Min(outW, width - x0));
            return;
        }
        start = x0 >= 0 ? 0 : Math.Min(outW, (-x0 + stride - 1) / stride);
        end = x0 >= width ? start : Math.Max(start, Math.Min(outW, ((width - x0 + stride - 1) / stride)));
    }

    // rows × outW output floats from rows of the image `srcStep` apart; columns outside [owStart, owEnd) are zero
    // (src points at column 0 of the window, which may lie outside the image: only [owStart, owEnd) is read).
    // The copy strategy is chosen once per call, not per row: rows here are short (8–60 floats) and many.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void CopyRows(float* d, float* src, int rows, int outW, nint srcStep, int owStart, int owEnd)
    {
        int n = owEnd - owStart;
        if (owStart != 0 || n != outW)
        {
            if (CopyRowsMasked(d, src, rows, outW, srcStep, owStart, owEnd))
            {
                return;
            }
            for (int r = 0; r < rows; r++, d += outW, src += srcStep)
            {
                new Span<float>(d, owStart).Clear();
                CopyRow(d + owStart, src + owStart, n);
                new Span<float>(d + owEnd, outW - owEnd).Clear();
            }
            return;
        }
        if (Vector256.IsHardwareAccelerated && n == 8)
        {
            for (int r = 0; r < rows; r++, d += 8, src += srcStep)
            {
                Vector256.Store(Vector256.Load(src), d);
            }
            return;
        }
        if (Vector512.IsHardwareAccelerated && n == 16)
        {
            for (int r = 0; r < rows; r++, d += 16, src += srcStep)
            {
                Vector512.Store(Vector512.Load(src), d);
            }
            return;
        }
        for (int r = 0; r < rows; r++, d += outW, src += srcStep)
        {
            CopyRow(d, src, n);
        }
    }

    // d[i] = s[2i] for i in [0, n) as far as whole vectors go, returning how far (the caller does the rest): the last vector
    // overlaps the one before it, and no vector reads at or past `end` (a stride-2 window's row may end at the end of the
    // image). ResNet-50's and SqueezeNet's 7×7 stride-2 first layers spent half their time in the scalar gather.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int GatherEven(float* d, float* s, int n, float* end)
    {
        if (Avx512F.IsSupported && n >= 16)
        {
            Vector512<int> even = Vector512<int>.Indices * 2;
            int i = 0;
            for (; i + 16 <= n && s + (2 * i) + 32 <= end; i += 16)
            {
                Avx512F.PermuteVar16x32x2(Vector512.Load(s + (2 * i)), even, Vector512.Load(s + (2 * i) + 16)).Store(d + i);
            }
            if (i < n && s + (2 * n) <= end)
            {
                int last = n - 16;
                Avx512F.PermuteVar16x32x2(Vector512.Load(s + (2 * last)), even, Vector512.Load(s + (2 * last) + 16)).Store(d + last);
                return n;
            }
            return i;
        }
        if (Avx2.IsSupported && n >= 8)
        {
            int i = 0;
            for (; i + 8 <= n && s + (2 * i) + 16 <= end; i += 8)
            {
                // Per 128-bit lane [a0 a2 b0 b2 | a4 a6 b4 b6], then the 64-bit pairs in order.
                Vector256<float> pairs = Avx.Shuffle(Vector256.Load(s + (2 * i)), Vector256.Load(s + (2 * i) + 8), 0b10_00_10_00);
                Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle().Store(d + i);
            }
            if (i < n && s + (2 * n) <= end)
            {
                int last = n - 8;
                Vector256<float> pairs = Avx.Shuffle(Vector256.Load(s + (2 * last)), Vector256.Load(s + (2 * last) + 8), 0b10_00_10_00);
                Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle().Store(d + last);
                return n;
            }
            return i;
        }
        return 0;
    }

    // d[i] = s[i], i < n: the last vector overlaps the previous one instead of a scalar tail.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void CopyRow(float* d, float* s, int n)
    {
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            int i = 0;
            for (; i <= n - 16; i += 16)
            {
                Vector512.Store(Vector512.Load(s + i), d + i);
            }
            if (i < n)
            {
                Vector512.Store(Vector512.Load(s + n - 16), d + n - 16);
            }
            return;
        }
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            for (int i = 0; i < n - 8; i += 8)
            {
                Vector256.Store(Vector256.Load(s + i), d + i);
            }
            Vector256.Store(Vector256.Load(s + n - 8), d + n - 8);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            d[i] = s[i];
        }
    }

    // For each of `rows` rows: d[i] += s[i], i < n; d advances by dStep, s by sStep.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRows(float* d, float* s, int rows, int n, nint dStep, nint sStep)
    {
        if (Vector256.IsHardwareAccelerated && n == 8)
        {
            for (int r = 0; r < rows; r++, d += dStep, s += sStep)
            {
                Vector256.Store(Vector256.Load(d) + Vector256.Load(s), d);
            }
            return;
        }
        for (int r = 0; r < rows; r++, d += dStep, s += sStep)
        {
            AddRow(d, s, n);
        }
    }

    // d[i] += s[i], i < n.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRow(float* d, float* s, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                Vector512.Store(Vector512.Load(d + i) + Vector512.Load(s + i), d + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                Vector256.Store(Vector256.Load(d + i) + Vector256.Load(s + i), d + i);
            }
        }
        for (; i < n; i++)
        {
            d[i] += s[i];
        }
    }

    /// <summary>
    /// N-D im2col over any number of spatial axes. im: (channels, imShape…); col: (channels·Πkernel, ΠcolShape), fully overwritten.
    /// colShape is the output spatial shape (given, not recomputed, as Caffe's im2col_nd takes it).
    /// </summary>
    public static void Im2ColNd(ReadOnlySpan<float> im, int channels, ReadOnlySpan<int> imShape, ReadOnlySpan<int> colShape,
        ReadOnlySpan<int> kernel, ReadOnlySpan<int> pad, ReadOnlySpan<int> stride, ReadOnlySpan<int> dilation, Span<float> col) =>
        TransferNd(im, col, channels, imShape, colShape, kernel, pad, stride, dilation, toColumns: true);

    /// <summary>N-D col2im: adds the columns back into im (accumulates; the caller clears im if needed).</summary>
    public static void Col2ImNd(ReadOnlySpan<float> col, int channels, ReadOnlySpan<int> imShape, ReadOnlySpan<int> colShape,
        ReadOnlySpan<int> kernel, ReadOnlySpan<int> pad, ReadOnlySpan<int> stride, ReadOnlySpan<int> dilation, Span<float> im) =>
        TransferNd(col, im, channels, imShape, colShape, kernel, pad, stride, dilation, toColumns: false);

    /// <summary>Output size of one spatial axis: (in + 2·pad − (dilation·(k−1)+1)) / stride + 1 (floor), as Caffe's convolution.</summary>
    public static int OutputSize(int input, int kernel, int pad, int stride, int dilation) =>
        (input + 2 * pad - (dilation * (kernel - 1) + 1)) / stride + 1;

    // One walk for both directions: toColumns copies im (source) into col (dest); otherwise adds col (source) into im (dest).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransferNd(ReadOnlySpan<float> source, Span<float> dest, int channels, ReadOnlySpan<int> imShape, ReadOnlySpan<int> colShape,
        ReadOnlySpan<int> kernel, ReadOnlySpan<int> pad, ReadOnlySpan<int> stride, ReadOnlySpan<int> dilation, bool toColumns)
    {
        int axes = imShape.Length;
        int kernelSize = 1, imSize = 1, colSize = 1;
        for (int a = 0; a < axes; a++)
        {
            kernelSize *= kernel[a];
            imSize *= imShape[a];
            colSize *= colShape[a];
        }
        Span<int> kernelIndex = stackalloc int[axes];
        Span<int> outIndex = stackalloc int[axes];
        int rows = channels * kernelSize;
        for (int row = 0; row < rows; row++)
        {
            int c = row / kernelSize;
            // Decode the kernel offset of this row, last axis fastest.
            for (int a = axes - 1, rest = row; a >= 0; a--)
            {
                kernelIndex[a] = rest % kernel[a];
                rest /= kernel[a];
            }
            outIndex.Clear();
            int imBase = c * imSize;
            int colBase = row * colSize;
            for (int p = 0; p < colSize; p++)
            {
                int offset = 0;
                bool inside = true;
                for (int a = 0; a < axes; a++)
                {
                    int x = outIndex[a] * stride[a] - pad[a] + kernelIndex[a] * dilation[a];
                    if ((uint)x >= (uint)imShape[a])
                    {
                        inside = false;
                        break;
                    }
                    offset = offset * imShape[a] + x;
                }
                if (toColumns)
                {
                    dest[colBase + p] = inside ? source[imBase + offset] : 0f;
                }
                else if (inside)
                {
                    dest[imBase + offset] += source[colBase + p];
                }
                // Advance the output position odometer, last axis fastest.
                for (int a = axes - 1; a >= 0; a--)
                {
                    if (++outIndex[a] < colShape[a])
                    {
                        break;
                    }
                    outIndex[a] = 0;
                }
            }
        }
    }
}
