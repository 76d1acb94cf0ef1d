using System.Runtime.Intrinsics;

namespace Crema.Kernels;

/// <summary>Blocked matrix transposes.</summary>
internal static class Transpose
{
    // dst (cols, rows) += src (rows, cols)ᵀ, in 16×16 blocks so both sides stay in cache.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void AddTransposed(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        const int Block = 16;
        for (int r0 = 0; r0 < rows; r0 += Block)
        {
            int r1 = Math.Min(r0 + Block, rows);
            for (int c0 = 0; c0 < cols; c0 += Block)
            {
                int c1 = Math.Min(c0 + Block, cols);
                for (int c = c0; c < c1; c++)
                {
                    var d = dst.Slice(c * rows, rows);
                    for (int r = r0; r < r1; r++)
                    {
                        d[r] += src[(r * cols) + c];
                    }
                }
            }
        }
    }

    // dst (cols, rows) = src (rows, cols)ᵀ: 16×16 blocks by register transposes with AVX-512, the ragged edges (and every
    // block without AVX-512) element by element.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Into(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        if (src.Length < (long)rows * cols || dst.Length < (long)rows * cols)
        {
            throw new ArgumentException($"a {rows}x{cols} transpose needs {(long)rows * cols} floats on each side (src {src.Length}, dst {dst.Length})");
        }
        const int Block = 16;
        fixed (float* ps = src)
        fixed (float* pd = dst)
        {
            for (int r0 = 0; r0 < rows; r0 += Block)
            {
                int r1 = Math.Min(r0 + Block, rows);
                for (int c0 = 0; c0 < cols; c0 += Block)
                {
                    int c1 = Math.Min(c0 + Block, cols);
                    if (r1 - r0 == Block && c1 - c0 == Block && Vector512.IsHardwareAccelerated)
                    {
                        Gemm.Transpose16x16(ps + ((long)r0 * cols) + c0, cols, pd + ((long)c0 * rows) + r0, rows);
                        continue;
                    }
                    for (int c = c0; c < c1; c++)
                    {
                        float* d = pd + ((long)c * rows);
                        for (int r = r0; r < r1; r++)
                        {
                            d[r] = ps[((long)r * cols) + c];
                        }
                    }
                }
            }
        }
    }
}
