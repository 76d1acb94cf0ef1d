using Crema.Kernels;

namespace Crema.Tests.Kernels;

// Gemm.SgemmSmallM (InnerProduct at batch ≤ 8) against GemmNaive.Sgemm plus a naive bias loop, both weight layouts.
// tests/run-isa-matrix.sh runs these under AVX-512, AVX2, Vector128 only and scalar.
public sealed class GemmSmallMTests
{
    private static float[] Fill(Random rng, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = (float)((rng.NextDouble() * 2) - 1);
        }
        return v;
    }

    private static void Check(Random rng, bool transB, int m, int n, int k, bool withBias)
    {
        float[] a = Fill(rng, m * k), b = Fill(rng, k * n), bias = withBias ? Fill(rng, n) : [];
        var c = new float[m * n];
        Array.Fill(c, float.NaN);
        var expected = new float[m * n];
        GemmNaive.Sgemm(false, transB, m, n, k, 1f, a, b, 0f, expected);
        for (int i = 0; i < m && withBias; i++)
        {
            for (int j = 0; j < n; j++)
            {
                expected[(i * n) + j] += bias[j];
            }
        }
        Gemm.SgemmSmallM(transB, m, n, k, a, b, bias, c);
        for (int i = 0; i < c.Length; i++)
        {
            // |a|, |b| ≤ 1: the sum's rounding error grows with k at most.
            float tol = 1e-5f * (k + 1);
            Assert.True(Math.Abs(expected[i] - c[i]) <= tol,
                $"transB={transB} m={m} n={n} k={k} bias={withBias} at {i}: expected {expected[i]}, got {c[i]}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryDepth0To256_MatchesNaive(bool transB)
    {
        var rng = new Random(1701);
        int[] rows = [1, 2, 3, 5, 8, 11, 16];
        int[] cols = [1, 3, 4, 7, 9, 33];
        for (int k = 0; k <= 256; k++)
        {
            CheckAll(rng, transB, rows[k % rows.Length], cols[k % cols.Length], k);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryWidth0To256_MatchesNaive(bool transB)
    {
        var rng = new Random(1701);
        int[] rows = [1, 2, 4, 7, 8, 10, 16];
        int[] depths = [1, 9, 17, 64];
        for (int n = 0; n <= 256; n++)
        {
            CheckAll(rng, transB, rows[n % rows.Length], n, depths[n % depths.Length]);
        }
    }

    private static void CheckAll(Random rng, bool transB, int m, int n, int k)
    {
        Check(rng, transB, m, n, k, withBias: true);
        Check(rng, transB, m, n, k, withBias: false);
    }

    [Theory]
    [InlineData(true, 1, 4096, 300)]
    [InlineData(true, 8, 1000, 257)]
    [InlineData(false, 3, 1000, 300)]
    [InlineData(false, 8, 129, 2100)]
    [InlineData(true, 10, 70, 80)]
    [InlineData(true, 16, 4096, 300)]
    [InlineData(false, 13, 1000, 300)]
    public void Threaded_MatchesNaive(bool transB, int m, int n, int k)
    {
        // m·n·k past the threading threshold: columns split over the workers.
        Check(new Random(1701), transB, m, n, k, withBias: true);
    }

    [Fact]
    public void ShortSpans_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => Gemm.SgemmSmallM(true, 2, 3, 4, new float[8], new float[12], new float[2], new float[6]));
        Assert.Throws<ArgumentException>(() => Gemm.SgemmSmallM(true, 2, 3, 4, new float[7], new float[12], default, new float[6]));
    }
}
