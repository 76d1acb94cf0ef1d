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
}
