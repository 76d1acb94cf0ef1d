using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crema.Kernels;

internal static partial class Im2Col
{
    // Stride-1 rows cut by the left or right padding: rows × outW floats, columns outside [owStart, owEnd) zero, each vector
    // one masked load (the cut columns come back as zeros) and one store, where Clear + copy + Clear made three calls a row
    // (CaffeNet conv2, 5×5 pad 2 on 27×27: 4 taps in 5 cut every row; its 3×3 pad 1 layers, 2 in 3). A masked-off lane is
    // never read, so src (column 0 of the window) may point before the image or past its end. CaffeNet conv2 alone at
    // batch 1 (crema time, AVX-512, Zen 5): 2.68 → 2.50 ms (minima of 6 interleaved runs); no measurable change on the
    // 13-wide rows of conv3–5, nor for conv2 with AVX2 only.
    // False when no vector path fits (outW below one vector): the caller copies.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool CopyRowsMasked(float* d, float* src, int rows, int outW, nint srcStep, int owStart, int owEnd)
    {
        if (Avx512F.IsSupported && outW >= 16)
        {
            Vector512<int> start = Vector512.Create(owStart), end = Vector512.Create(owEnd);
            if (outW <= 32)
            {
                // Two vectors a row, at 0 and outW − 16 (overlapping, both writing the same values).
                int p = outW - 16;
                Vector512<float> first = Inside(Vector512<int>.Indices, start, end);
                Vector512<float> second = Inside(Vector512<int>.Indices + Vector512.Create(p), start, end);
                for (int r = 0; r < rows; r++, d += outW, src += srcStep)
                {
                    Avx512F.MaskLoad(src, first, Vector512<float>.Zero).Store(d);
                    Avx512F.MaskLoad(src + p, second, Vector512<float>.Zero).Store(d + p);
                }
                return true;
            }
            for (int r = 0; r < rows; r++, d += outW, src += srcStep)
            {
                for (int p = 0; ; p += 16)
                {
                    p = Math.Min(p, outW - 16);
                    Vector512<float> inside = Inside(Vector512<int>.Indices + Vector512.Create(p), start, end);
                    Avx512F.MaskLoad(src + p, inside, Vector512<float>.Zero).Store(d + p);
                    if (p == outW - 16)
                    {
                        break;
                    }
                }
            }
            return true;
        }
        if (Avx2.IsSupported && outW >= 8)
        {
            Vector256<int> start = Vector256.Create(owStart), end = Vector256.Create(owEnd);
            if (outW <= 16)
            {
                int p = outW - 8;
                Vector256<float> first = Inside(Vector256<int>.Indices, start, end);
                Vector256<float> second = Inside(Vector256<int>.Indices + Vector256.Create(p), start, end);
                for (int r = 0; r < rows; r++, d += outW, src += srcStep)
                {
                    Avx.MaskLoad(src, first).Store(d);
                    Avx.MaskLoad(src + p, second).Store(d + p);
                }
                return true;
            }
            for (int r = 0; r < rows; r++, d += outW, src += srcStep)
            {
                for (int p = 0; ; p += 8)
                {
                    p = Math.Min(p, outW - 8);
                    Avx.MaskLoad(src + p, Inside(Vector256<int>.Indices + Vector256.Create(p), start, end)).Store(d + p);
                    if (p == outW - 8)
                    {
                        break;
                    }
                }
            }
            return true;
        }
        return false;
    }

    // All-ones lanes where start ≤ column < end.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Inside(Vector512<int> column, Vector512<int> start, Vector512<int> end) =>
        (Vector512.GreaterThanOrEqual(column, start) & Vector512.LessThan(column, end)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Inside(Vector256<int> column, Vector256<int> start, Vector256<int> end) =>
        (Vector256.GreaterThanOrEqual(column, start) & Vector256.LessThan(column, end)).AsSingle();
}
