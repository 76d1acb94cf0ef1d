namespace Crema.Kernels;

/// <summary>Row-major SGEMM/SGEMV with Caffe's caffe_cpu_gemm semantics. (Placeholder until the packed SIMD kernel lands.)</summary>
public static class Gemm
{
    public static int ThreadCount { get; set; } = Environment.ProcessorCount;

    // c: (m, n) = alpha·op(a)·op(b) + beta·c; op(a): (m, k), op(b): (k, n)
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * n, n);
            if (beta == 0)
            {
                row.Clear();
            }
            else if (beta != 1)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
            for (int p = 0; p < k; p++)
            {
                float av = alpha * (transA ? a[p * m + i] : a[i * k + p]);
                if (av == 0)
                {
                    continue;
                }
                if (!transB)
                {
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), av, row, row);
                }
                else
                {
                    for (int j = 0; j < n; j++)
                    {
                        row[j] += av * b[j * k + p];
                    }
                }
            }
        }
    }

    // y: (m) = alpha·a·x + beta·y, or (n) = alpha·aᵀ·x + beta·y when transA; a: (m, n)
    public static void Sgemv(bool transA, int m, int n, float alpha, ReadOnlySpan<float> a, ReadOnlySpan<float> x, float beta, Span<float> y)
    {
        if (!transA)
        {
            for (int i = 0; i < m; i++)
            {
                float dot = System.Numerics.Tensors.TensorPrimitives.Dot(a.Slice(i * n, n), x[..n]);
                y[i] = alpha * dot + (beta == 0 ? 0 : beta * y[i]);
            }
        }
        else
        {
            var yy = y[..n];
            if (beta == 0)
            {
                yy.Clear();
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(yy, beta, yy);
            }
            for (int i = 0; i < m; i++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(a.Slice(i * n, n), alpha * x[i], yy, yy);
            }
        }
    }
}
