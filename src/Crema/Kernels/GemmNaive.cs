namespace Crema.Kernels;

/// <summary>
/// Triple-loop reference for <see cref="Gemm"/>: same signatures and semantics, double accumulators.
/// The test oracle and the benchmark baseline; never used on a hot path.
/// </summary>
internal static class GemmNaive
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C, row-major; see <see cref="Gemm.Sgemm"/>.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        Gemm.ValidateGemm(m, n, k, a.Length, b.Length, c.Length);
        // a: (m, k), or (k, m) when transA; b: (k, n), or (n, k) when transB; c: (m, n)
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                if (alpha != 0)
                {
                    for (int p = 0; p < k; p++)
                    {
                        float av = transA ? a[(p * m) + i] : a[(i * k) + p];
                        float bv = transB ? b[(j * k) + p] : b[(p * n) + j];
                        sum += (double)av * bv;
                    }
                }
                double old = beta == 0 ? 0 : (double)beta * c[(i * n) + j];
                c[(i * n) + j] = (float)((alpha * sum) + old);
            }
        }
    }

    /// <summary>y = alpha·op(A)·x + beta·y with A (m, n) row-major; see <see cref="Gemm.Sgemv"/>.</summary>
    public static void Sgemv(bool transA, int m, int n, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> x, float beta, Span<float> y)
    {
        Gemm.ValidateGemv(transA, m, n, a.Length, x.Length, y.Length);
        int rows = transA ? n : m, cols = transA ? m : n;
        for (int i = 0; i < rows; i++)
        {
            double sum = 0;
            if (alpha != 0)
            {
                for (int j = 0; j < cols; j++)
                {
                    float av = transA ? a[(j * n) + i] : a[(i * n) + j];
                    sum += (double)av * x[j];
                }
            }
            double old = beta == 0 ? 0 : (double)beta * y[i];
            y[i] = (float)((alpha * sum) + old);
        }
    }
}
